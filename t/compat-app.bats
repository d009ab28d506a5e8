#!/usr/bin/env bats
# php-fpm compatibility with a real application: DokuWiki, as Debian 12
# packages it (dokuwiki, installed by contrib/setup.sh), behind nginx, served
# by php-fpm8.2 on one side and by fpmd on the other, with the same php.ini
# and the same pool settings. Each side has its own copy of the wiki (code,
# config, pages, media, sessions), made from one template so that even the
# files' times agree, and its own cookie jar: what one side writes the other
# never sees.
#
# Each test plays what a browser does over several requests (forms sent with
# GET and POST, the tokens and cookies the pages hand out sent back, a
# redirect after a POST, a login kept by its session, an upload, a feed, an
# XML-RPC call, error pages) on both sides at the same time, and compares
# every response (curl -i: status line, headers, body) byte for byte once
# normalised. What is normalised, because it differs between any two
# servers and says nothing about them (see normalise()):
#   - the Date header and dates and times in pages and feeds (a save on one
#     side may fall in another minute than on the other), JSON-escaped ones
#     too (the signature in the edit page's script: 2026\/11\/30 23:23);
#   - Unix timestamps (edit form, revisions, the indexer's image);
#   - the nginx ports;
#   - the wiki's directory (ref/ or tst/ under the test's directory);
#   - the Last-Modified and Expires headers (an upload's time, now + N);
#   - the PHP session id (cookie "DokuWiki"), the login cookie (named
#     DW + md5 of the path and port, its value encrypted with a random salt
#     each wiki makes on first use),
#     the CSRF token (sectok, derived from both), the media tokens (tok,
#     made with the same salt), and the cache seeds and ETags made from
#     files' paths and times (tseed, ETag).
#
# COMPAT_SELFTEST=1 bats t/compat-app.bats puts php-fpm on both sides: it
# proves the harness and the flows, whatever the state of fpmd.

load helper

REF_NAME=php-fpm
if [[ -n ${COMPAT_SELFTEST:-} ]]; then
	TEST_NAME=php-fpm-selftest
else
	TEST_NAME=fpmd
fi
DOKU_SHARE=/usr/share/dokuwiki
DOKU_CONF_DIR=/etc/dokuwiki
DOKU_DATA=/var/lib/dokuwiki/data
# The admin's password is compat-secret (bcrypt, cost 5: quick to check).
DOKU_ADMIN='admin:$2y$05$hrszkMGY5OHKql1Zvbvp..6KTU7mbxeYQQWR4saz/fbfLDSDvEdCO:Compat Admin:admin@example.test:admin,user'

# _wiki_template DIR: one DokuWiki instance in DIR/wiki, self-contained:
# the package's code, its config and data copied (symlinks to /etc and
# /var/lib resolved), a preload.php that keeps the config in DIR/wiki/conf,
# settings that make it deterministic and offline, and one admin user.
_wiki_template() {
	local w=$1/wiki
	mkdir -p "$w"
	cp -a "$DOKU_SHARE/." "$w/"
	rm -f "$w/.htaccess"
	# lib/plugins and lib/tpl are links into /var/lib: read only here.
	mkdir -p "$w/conf"
	cp -L "$DOKU_CONF_DIR"/*.php "$DOKU_CONF_DIR"/*.conf "$DOKU_CONF_DIR"/*.css \
		"$w/conf/"
	cp -a "$DOKU_DATA" "$w/data"
	printf '<?php\n// compat-app: the config is DOKU_INC/conf, nothing else.\n' \
		>"$w/inc/preload.php"
	cat >"$w/conf/local.php" <<'EOF'
<?php
$conf['title'] = 'Compat Wiki';
$conf['lang'] = 'en';
$conf['savedir'] = DOKU_INC . 'data';
$conf['useacl'] = 1;
$conf['superuser'] = '@admin';
$conf['send404'] = 1;
$conf['updatecheck'] = 0;
$conf['userewrite'] = 0;
$conf['disableactions'] = 'register,resendpwd';
$conf['remote'] = 1;
$conf['remoteuser'] = '';
$conf['rss_type'] = 'rss2';
$conf['mailguard'] = 'none';
$conf['notify'] = '';
$conf['subscribers'] = 0;
EOF
	cat >"$w/conf/acl.auth.php" <<'EOF'
# acl.auth.php
*	@ALL	1
*	@user	16
EOF
	printf '# users.auth.php\n%s\n' "$DOKU_ADMIN" >"$w/conf/users.auth.php"
	# The same times on both sides: the copy is made once, then cp -a.
	find "$w" -newer "$DOKU_SHARE/doku.php" -exec touch -h -r "$DOKU_SHARE/doku.php" {} +
}

# The form tool: `form HTML FORM_ID [NAME=VALUE...]` prints the form's action
# on the first line and, on the second, its fields urlencoded as a browser
# sends them (hidden and filled inputs, textareas and checked boxes; no
# submit button: name the one pressed in the overrides), with NAME=VALUE
# overriding or adding fields.
FORM_PY='
import html.parser, sys, urllib.parse
class P(html.parser.HTMLParser):
    def __init__(self, want):
        super().__init__(convert_charrefs=True)
        self.want, self.inside, self.action, self.fields = want, False, None, []
        self.ta = None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == self.want:
            self.inside, self.action = True, a.get("action", "")
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            t = a.get("type", "text").lower()
            if t in ("submit", "button", "image", "file", "reset"):
                return
            if t in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append([a["name"], a.get("value", "on" if t == "checkbox" else "")])
        elif tag == "textarea" and a.get("name"):
            self.ta = [a["name"], ""]
            self.fields.append(self.ta)
    def handle_data(self, d):
        if self.ta is not None:
            self.ta[1] += d
    def handle_endtag(self, tag):
        if tag == "textarea":
            self.ta = None
        if tag == "form":
            self.inside = False
p = P(sys.argv[2])
p.feed(open(sys.argv[1], encoding="utf-8", errors="replace").read())
if p.action is None:
    sys.exit("no form with id %s in %s" % (sys.argv[2], sys.argv[1]))
for o in sys.argv[3:]:
    k, v = o.split("=", 1)
    for f in p.fields:
        if f[0] == k:
            f[1] = v
            break
    else:
        p.fields.append([k, v])
# A textarea starts with a newline that browsers drop.
fields = [(k, v[1:] if v.startswith("\n") else v) for k, v in p.fields]
print(p.action)
print(urllib.parse.urlencode(fields))
'

form() {
	"$PYTHON" -c "$FORM_PY" "$@"
}

setup_file() {
	local d=$BATS_FILE_TMPDIR side
	[[ -f $DOKU_SHARE/doku.php ]] ||
		fail "DokuWiki is not installed (Debian package dokuwiki; contrib/setup.sh installs it)"
	_wiki_template "$d/template"
	for side in ref tst; do
		mkdir -p "$d/$side/sessions" "$d/$side/upload"
		cp -a "$d/template/wiki" "$d/$side/wiki"
	done

	phpfpm_start -n "$REF_NAME" \
		"php_admin_value[session.save_path] = $d/ref/sessions" \
		"php_admin_value[upload_tmp_dir] = $d/ref/upload"
	WWW_ROOT=$d/ref/wiki nginx_start -n nginx-ref "$PHPFPM_SOCK"
	export REF_URL=$BASE_URL REF_PORT=$NGINX_PORT

	local sock
	if [[ -n ${COMPAT_SELFTEST:-} ]]; then
		phpfpm_start -n "$TEST_NAME" \
			"php_admin_value[session.save_path] = $d/tst/sessions" \
			"php_admin_value[upload_tmp_dir] = $d/tst/upload"
		sock=$PHPFPM_SOCK
	else
		fpmd_conf 'php_admin_value {' \
			"    session.save_path = \"$d/tst/sessions\"" \
			"    upload_tmp_dir = \"$d/tst/upload\"" '}'
		fpmd_start
		sock=$FPMD_SOCK
	fi
	WWW_ROOT=$d/tst/wiki nginx_start -n nginx-test "$sock"
	export TEST_URL=$BASE_URL TEST_PORT=$NGINX_PORT
	export ROOT_DIR=$d
}

teardown_file() {
	teardown_stack
}

# normalise PORTS...: stdin to stdout, what differs between two servers
# replaced by fixed text (see the list at the top).
normalise() {
	local ports
	ports=$(IFS='|'; echo "$*")
	sed -E \
		-e 's/^(Date|Last-Modified|Expires): [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT/\1: DATE/' \
		-e "s/:($ports)([^0-9]|\$)/:PORT\\2/g" \
		-e "s#$ROOT_DIR/(ref|tst)/#ROOT/#g" \
		-e 's/DokuWiki=[A-Za-z0-9,-]+/DokuWiki=SESSID/g' \
		-e 's/DW[0-9a-f]{32}=[^;[:space:]]+/DWCOOKIE=VALUE/g' \
		-e 's/(sectok(=|%3D|&#x3D;|"[ ]*:[ ]*"|" value="|&quot;:&quot;))[0-9a-f]{32}/\1SECTOK/g' \
		-e 's/name="sectok" value="[0-9a-f]{32}"/name="sectok" value="SECTOK"/g' \
		-e 's/(tseed=)[0-9a-f]{32}/\1TSEED/g' \
		-e 's/([?&;]tok=)[0-9a-f]{6}/\1TOK/g' \
		-e 's/^ETag: .*/ETag: ETAG/' \
		-e 's#[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}#YYYY/MM/DD HH:MM#g' \
		-e 's#[0-9]{4}\\/[0-9]{2}\\/[0-9]{2} [0-9]{2}:[0-9]{2}#YYYY\\/MM\\/DD HH:MM#g' \
		-e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([+-][0-9]{2}:[0-9]{2}|Z)/ISODATE/g' \
		-e 's/[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} [+-][0-9]{4}/RFCDATE/g' \
		-e 's/(^|[^0-9])1[7-9][0-9]{8}([^0-9]|$)/\1TIMESTAMP\2/g' \
		-e 's/(^|[^0-9])1[7-9][0-9]{8}([^0-9]|$)/\1TIMESTAMP\2/g'
}

# ------------------------------------------------------------ a browser ---

# In a flow, these are the side's: BASE (its URL), JAR (its cookie jar),
# OUT (its directory of responses), N (the step counter).

# step NAME CURL_ARGS...: one request as a browser sends it, with the side's
# cookies; {B} in the arguments is the side's base URL. The raw response
# goes to $OUT/NN-NAME and its path to LAST, the body alone to LAST.body.
step() {
	local name=$1 a rc=0 f
	shift
	local -a args=()
	for a in "$@"; do
		args+=("${a//\{B\}/$BASE}")
	done
	N=$((N + 1))
	printf -v f '%s/%02d-%s' "$OUT" "$N" "$name"
	curl -sS -i --max-time 60 -H 'Expect:' -A 'Mozilla/5.0 (X11; Linux x86_64) compat-app' \
		-H 'Accept-Language: en' -b "$JAR" -c "$JAR" "${args[@]}" >"$f" 2>"$f.err" || rc=$?
	if ((rc)); then
		printf '\n[curl exit status %s: %s]\n' "$rc" "$(tr '\n' ' ' <"$f.err")" >>"$f"
	fi
	LAST=$f
	echo "${f##*/}" >>"$OUT/steps"
	# The body: what follows the first empty line.
	tr -d '\r' <"$f" | sed '1,/^$/d' >"$f.body"
}

# uncompared: the last response is not compared (the flow checks it).
uncompared() {
	sed -i '$d' "$OUT/steps"
}

# submit NAME FORM_ID [NAME=VALUE...]: send the form FORM_ID of the last
# response, as a browser would (POST, urlencoded).
submit() {
	local name=$1 id=$2 action body
	shift 2
	{ read -r action; read -r body; } < <(form "$LAST.body" "$id" "$@") ||
		{ echo "no form $id in $LAST" >&2; return 1; }
	action=${action//&amp;/&}
	[[ $action == /* ]] || action=/$action
	step "$name" "{B}$action" --data-raw "$body"
}

# field NAME: the value of the hidden field NAME in the last response.
field() {
	sed -nE 's/.*name="'"$1"'" value="([^"]*)".*/\1/p' "$LAST.body" | head -n 1
}

# flow FUNC: run FUNC as a browser on each side at the same time, then
# compare the two sides' responses step by step.
flow() {
	local fn=$1 d=$BATS_TEST_TMPDIR rc=0 p1 p2
	mkdir -p "$d/ref" "$d/tst"
	(BASE=$REF_URL JAR=$d/ref.jar OUT=$d/ref N=0; "$fn") >"$d/ref.log" 2>&1 &
	p1=$!
	(BASE=$TEST_URL JAR=$d/tst.jar OUT=$d/tst N=0; "$fn") >"$d/tst.log" 2>&1 &
	p2=$!
	wait "$p1" || rc=1
	wait "$p2" || rc=1
	if ((rc)); then
		echo "the flow $fn failed on a side:" >&2
		cat "$d/ref.log" "$d/tst.log" >&2
		return 1
	fi
	compare_steps "$d/ref" "$d/tst"
}

# compare_steps REF_DIR TEST_DIR: every response, normalised, must be equal;
# every step that differs is shown.
compare_steps() {
	local ref=$1 tst=$2 f name nsteps=0 diff ndiff=0
	cmp -s "$ref/steps" "$tst/steps" ||
		{ echo "the two sides did not take the same steps" >&2; return 1; }
	while read -r name; do
		f=$ref/$name
		nsteps=$((nsteps + 1))
		[[ -f $tst/$name ]] || { echo "step $name: no response on $TEST_NAME's side" >&2; return 1; }
		_no_nginx_error "$REF_NAME" "$f" || return 1
		_no_nginx_error "$TEST_NAME" "$tst/$name" || return 1
		normalise "$REF_PORT" <"$f" >"$f.out"
		normalise "$TEST_PORT" <"$tst/$name" >"$tst/$name.out"
		cmp -s "$f.out" "$tst/$name.out" && continue
		ndiff=$((ndiff + 1))
		echo "step $name: responses differ ($REF_NAME vs $TEST_NAME)" >&2
		# The first three in full: later ones often follow from them.
		((ndiff <= 3)) || continue
		diff=$(diff -u --label "$REF_NAME" --label "$TEST_NAME" \
			<(tr -d '\r' <"$f.out") <(tr -d '\r' <"$tst/$name.out")) || true
		[[ -n $diff ]] || diff=$(diff -u <(cat -A "$f.out") <(cat -A "$tst/$name.out")) || true
		printf '%s\n' "$diff" | head -n 40 | cut -c 1-300 >&2
		echo "(full responses: $f.out and $tst/$name.out)" >&2
	done <"$ref/steps"
	((nsteps > 0)) || { echo "no step ran" >&2; return 1; }
	((ndiff == 0)) || { echo "$ndiff of $nsteps steps differ" >&2; return 1; }
}

# _no_nginx_error SIDE RAW: fail if RAW is an error page nginx made itself
# (the two sides would agree on it and compare nothing).
_no_nginx_error() {
	grep -q '<hr><center>nginx' "$2" || return 0
	grep -qE '^HTTP/1\.[01] [45][0-9][0-9]' "$2" || return 0
	echo "$1: nginx answered $(head -n 1 "$2" | tr -d '\r') itself in ${2##*/}: nothing to compare" >&2
	return 1
}

# assert_step_status CODE: the last response's status (inside a flow).
assert_step_status() {
	local got
	got=$(head -n 1 "$LAST" | tr -d '\r')
	[[ $got == "HTTP/1.1 $1 "* ]] || { echo "${LAST##*/}: expected $1, got: $got" >&2; return 1; }
}

# redirected TARGET: the last response redirects to a URL that contains
# TARGET. The response itself is left out of the comparison: a redirect
# after a POST is the known 302/303 difference, compared on its own by
# "app redirects" below; a browser follows either with a GET.
redirected() {
	grep -qi "^Location: .*$1" "$LAST" ||
		{ echo "${LAST##*/}: expected a redirect to $1" >&2; return 1; }
	uncompared
}

# login [USER PASSWORD]: the login form, filled and sent; a good password
# redirects (not compared, see redirected).
login() {
	step login-form '{B}/doku.php?id=start&do=login'
	submit login dw__login "u=${1:-admin}" "p=${2:-compat-secret}"
	[[ -n ${2:-} ]] || redirected 'id=start'
}

# --------------------------------------------------------------- pages ---

_read_pages() {
	step syntax '{B}/doku.php?id=wiki:syntax'
	assert_step_status 200
	step raw '{B}/doku.php?id=wiki:dokuwiki&do=export_raw'
	step xhtml '{B}/doku.php?id=wiki:welcome&do=export_xhtml'
	step index '{B}/doku.php?id=start&do=index'
	step media '{B}/doku.php?id=start&do=media&ns=wiki'
	step detail '{B}/lib/exe/detail.php?id=start&media=wiki:dokuwiki-128.png'
	step image '{B}/lib/exe/fetch.php?media=wiki:dokuwiki-128.png'
	step resized-no-token '{B}/lib/exe/fetch.php?w=32&media=wiki:dokuwiki-128.png'
}

@test "app pages: wiki pages, raw and XHTML exports, index, media" {
	flow _read_pages
}

_errors() {
	step missing-page '{B}/doku.php?id=no:such:page'
	assert_step_status 404
	step missing-media '{B}/lib/exe/fetch.php?media=no:such.png'
	step missing-detail '{B}/lib/exe/detail.php?id=start&media=no:such.png'
	step denied '{B}/doku.php?id=start&do=admin'
	step unknown-action '{B}/doku.php?id=start&do=no-such-action'
	step bad-id '{B}/doku.php?id=..%2F..%2Fetc%2Fpasswd'
	step no-script '{B}/lib/exe/no-such.php'
}

@test "app errors: missing page (404), missing media, denied, unknown action" {
	flow _errors
}

_search() {
	step search '{B}/doku.php?do=search&id=start&q=syntax'
	step search-none '{B}/doku.php?do=search&id=start&q=zzzznothing'
	step quicksearch '{B}/lib/exe/ajax.php' --data-raw 'call=qsearch&q=wiki'
}

@test "app search: the search form (GET) and the AJAX quick search (POST)" {
	flow _search
}

# ------------------------------------------------------ login and session ---

_login_session() {
	login admin wrong-password
	assert_step_status 403
	login
	step logged-in '{B}/doku.php?id=start'
	grep -q 'Compat Admin' "$LAST.body" || { echo "not logged in" >&2; return 1; }
	step profile '{B}/doku.php?id=start&do=profile'
	step admin '{B}/doku.php?id=start&do=admin'
	step logout "{B}/doku.php?id=start&do=logout&sectok=$(field sectok)"
	step logged-out '{B}/doku.php?id=start'
}

@test "app session: a wrong password, a login kept by the session cookie, logout" {
	flow _login_session
}

_csrf() {
	login
	step edit-form '{B}/doku.php?id=playground:csrf&do=edit'
	submit save-bad-token dw__editform 'sectok=0123456789abcdef0123456789abcdef' \
		'wikitext=forged' 'do[save]=Save'
	step not-saved '{B}/doku.php?id=playground:csrf'
}

@test "app forms: a POST with a forged security token is refused" {
	flow _csrf
}

# ----------------------------------------------------------------- edits ---

# The save answers a redirect to the page: its status line is compared in
# the test below, the rest of the flow with it.
_edit() {
	login
	step edit-form '{B}/doku.php?id=playground:compat&do=edit'
	submit preview dw__editform 'wikitext======= Compat ======
Written through **fpmd** and //php-fpm//.

  * one
  * two
' 'summary=first' 'do[preview]=Preview'
	submit save dw__editform 'do[save]=Save'
	redirected 'id=playground:compat'
	step page '{B}/doku.php?id=playground:compat'
	step edit-again '{B}/doku.php?id=playground:compat&do=edit'
	submit save2 dw__editform 'wikitext======= Compat ======
Changed.
' 'summary=second' 'do[save]=Save'
	redirected 'id=playground:compat'
	step revisions '{B}/doku.php?id=playground:compat&do=revisions'
	step diff '{B}/doku.php?id=playground:compat&do=diff'
	step recent '{B}/doku.php?id=start&do=recent'
	step feed-rss2 '{B}/feed.php'
	step feed-atom '{B}/feed.php?type=atom1&mode=recent&num=5'
	step feed-page '{B}/feed.php?mode=list&ns=playground'
	step backlinks '{B}/doku.php?id=playground:compat&do=backlink'
}

@test "app edits: preview and save (POST), the page, revisions, diff, recent changes, RSS and Atom feeds" {
	flow _edit
}

# The redirects after a POST that the other flows leave out: the login's,
# the save's, and the media manager's delete.
_post_redirects() {
	step login-form '{B}/doku.php?id=start&do=login'
	submit login dw__login u=admin p=compat-secret
	step edit-form '{B}/doku.php?id=playground:redirect&do=edit'
	submit save dw__editform 'wikitext=redirected' 'do[save]=Save'
	step edit-form-again '{B}/doku.php?id=playground:redirect&do=edit'
	submit save-unchanged dw__editform 'do[save]=Save'
}

@test "app redirects: login and save (POST) answer 302 to the page, as php-fpm does" {
	flow _post_redirects
}

# ---------------------------------------------------------------- upload ---

_upload() {
	local files=$BATS_TEST_TMPDIR action tok
	login
	step media-manager '{B}/doku.php?id=start&do=media&ns=playground&tab_files=upload'
	tok=$(field sectok)
	action=$(form "$LAST.body" dw__upload | head -n 1)
	action=${action//&amp;/&}
	# The form as a browser sends it: multipart, the file and the fields.
	step upload "{B}$action" -F "sectok=$tok" -F ns=playground \
		-F "upload=@$files/compat.png;type=image/png" -F 'mediaid='
	step uploaded '{B}/doku.php?id=start&do=media&ns=playground&image=playground:compat.png'
	step fetch '{B}/lib/exe/fetch.php?media=playground:compat.png'
	# The AJAX uploader sends the file as the raw body.
	step ajax-upload "{B}/lib/exe/ajax.php?tab_files=files&tab_details=view&do=media&ns=playground&call=mediaupload&qqfile=data.zip&ow=false&sectok=$tok" \
		-H 'Content-Type: application/octet-stream' -H 'X-File-Name: data.zip' \
		-H 'X-Requested-With: XMLHttpRequest' --data-binary "@$files/data.zip"
	step fetch-zip '{B}/lib/exe/fetch.php?media=playground:data.zip'
	step range '{B}/lib/exe/fetch.php?media=playground:data.zip' -H 'Range: bytes=1000-1999'
	step download '{B}/lib/exe/fetch.php?media=playground:data.zip&download=1'
	step forbidden "{B}$action" -F "sectok=$tok" -F ns=playground \
		-F "upload=@$files/notes.txt;type=text/plain" -F 'mediaid=notes.txt'
	step list '{B}/doku.php?id=start&do=media&ns=playground'
}

@test "app uploads: an image through the media manager (multipart), a file by AJAX (raw body), fetched whole and by range, a forbidden type" {
	local f=$BATS_TEST_TMPDIR i
	cp "$ROOT_DIR/template/wiki/data/media/wiki/dokuwiki-128.png" "$f/compat.png"
	for ((i = 0; i < 4000; i++)); do
		printf 'line %04d of the compat upload\n' "$i"
	done >"$f/notes.txt"
	# A zip's magic, then 300 KB that do not compress: the same on both.
	{ printf 'PK\003\004'; head -c 300000 /dev/urandom; } >"$f/data.zip"
	flow _upload
}

# --------------------------------------------------------------- caching ---

_cached() {
	step css '{B}/lib/exe/css.php?t=dokuwiki&tseed=0'
	step css-gzip '{B}/lib/exe/css.php?t=dokuwiki&tseed=0' -H 'Accept-Encoding: gzip'
	step js '{B}/lib/exe/js.php?t=dokuwiki&tseed=0'
	step image '{B}/lib/exe/fetch.php?media=wiki:dokuwiki-128.png'
	local etag lm
	etag=$(sed -nE 's/^ETag: (.*)\r?$/\1/Ip' "$LAST" | tr -d '\r')
	lm=$(sed -nE 's/^Last-Modified: (.*)\r?$/\1/Ip' "$LAST" | tr -d '\r')
	step image-etag '{B}/lib/exe/fetch.php?media=wiki:dokuwiki-128.png' -H "If-None-Match: $etag"
	step image-since '{B}/lib/exe/fetch.php?media=wiki:dokuwiki-128.png' -H "If-Modified-Since: $lm"
}

@test "app caching: CSS and JS dispatchers (also gzip), conditional GETs get 304" {
	flow _cached
}

# ------------------------------------------------------------------- XML ---

_xmlrpc() {
	local call
	for call in dokuwiki.getVersion wiki.getRPCVersionSupported; do
		step "$call" '{B}/lib/exe/xmlrpc.php' -H 'Content-Type: text/xml' \
			--data-raw "<?xml version=\"1.0\"?><methodCall><methodName>$call</methodName><params/></methodCall>"
	done
	step getpage '{B}/lib/exe/xmlrpc.php' -H 'Content-Type: text/xml' --data-raw \
		'<?xml version="1.0"?><methodCall><methodName>wiki.getPage</methodName><params><param><value><string>wiki:welcome</string></value></param></params></methodCall>'
	step fault '{B}/lib/exe/xmlrpc.php' -H 'Content-Type: text/xml' --data-raw \
		'<?xml version="1.0"?><methodCall><methodName>no.such.method</methodName><params/></methodCall>'
	step broken '{B}/lib/exe/xmlrpc.php' -H 'Content-Type: text/xml' --data-raw '<methodCall><oops'
	step get '{B}/lib/exe/xmlrpc.php'
	step jsonrpc '{B}/lib/exe/jsonrpc.php/dokuwiki.getTitle' -H 'Content-Type: application/json' --data-raw '[]'
}

@test "app XML: XML-RPC calls, a fault, a broken request, and the JSON-RPC entry" {
	flow _xmlrpc
}
