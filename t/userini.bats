#!/usr/bin/env bats
# .user.ini files and open_basedir, compared with php-fpm 8.2: the same
# requests through nginx (or straight to the socket) to php-fpm and to
# fpmd, both serving one document root the tests write into, must give
# the same answers; where fpmd differs on purpose (PHP_VALUE and
# PHP_ADMIN_VALUE cannot widen open_basedir), fpmd alone is checked.
#
# Each side has two pools of one worker each (so one cache answers):
#   main: the default user_ini.filename (.user.ini) and cache_ttl (300 s),
#         php_admin_value memory_limit = 100M and open_basedir = ROOT:/tmp;
#   ttl:  user_ini.filename = .custom.ini, user_ini.cache_ttl = 1,
#         php_value open_basedir = ROOT:/tmp (not locked).
# fpmd has a third pool, "off", with user_ini.filename empty.  Both read
# a copy of the php.ini with [PATH=] and [HOST=] sections added.

load helper

setup_file() {
	local d=$BATS_FILE_TMPDIR w
	w=$d/www
	mkdir -p "$w"
	open_path "$d"
	export ROOT=$w
	_tree "$w"
	# the machine's conf.d still (php-fpm's is built in)
	export SCAN_DIR
	SCAN_DIR=$(dirname "$PHP_INI")/conf.d
	{
		cat "$PHP_INI"
		printf '\n[PATH=%s]\nprecision = 3\n' "$w/sect"
		printf '[HOST=sub.example.test]\nprecision = 2\n'
	} >"$d/php.ini"
	export PHP_INI=$d/php.ini

	phpfpm_start -n ref \
		'pm.max_children = 1' \
		'php_admin_value[memory_limit] = 100M' \
		"php_admin_value[open_basedir] = \"$w:/tmp\""
	export REF_SOCK=$PHPFPM_SOCK
	phpfpm_start -n ref-ttl \
		'pm.max_children = 1' \
		'php_admin_value[user_ini.filename] = .custom.ini' \
		'php_admin_value[user_ini.cache_ttl] = 1' \
		"php_value[open_basedir] = \"$w:/tmp\""
	export REF_TTL_SOCK=$PHPFPM_SOCK

	FPMD_CONF=$d/fpmd.conf
	{
		echo 'log_level = notice'
		echo "php_ini = \"$PHP_INI\""
		[[ -d $SCAN_DIR ]] && echo "php_ini_scan_dir = \"$SCAN_DIR\""
		echo "control.socket = \"$d/control.sock\""
		echo 'pool main {'
		echo "    listen = \"$d/main.sock\""
		echo '    listen.mode = 0666'
		echo '    pm = static'
		echo '    pm.max_children = 1'
		echo '    php_admin_value {'
		echo '        memory_limit = "100M"'
		echo "        open_basedir = \"$w:/tmp\""
		echo '    }'
		echo '}'
		echo 'pool ttl {'
		echo "    listen = \"$d/ttl.sock\""
		echo '    listen.mode = 0666'
		echo '    pm = static'
		echo '    pm.max_children = 1'
		echo '    php_admin_value {'
		echo '        user_ini.filename = ".custom.ini"'
		echo '        user_ini.cache_ttl = 1'
		echo '    }'
		echo "    php_value { open_basedir = \"$w:/tmp\" }"
		echo '}'
		echo 'pool off {'
		echo "    listen = \"$d/off.sock\""
		echo '    listen.mode = 0666'
		echo '    pm = static'
		echo '    pm.max_children = 1'
		echo '    php_admin_value { user_ini.filename = "" }'
		echo '}'
	} >"$FPMD_CONF"
	check_sock_path "$d/main.sock"
	fpmd_start
	export SHARED_LOG=$FPMD_LOG TEST_SOCK=$d/main.sock \
		TEST_TTL_SOCK=$d/ttl.sock TEST_OFF_SOCK=$d/off.sock

	# shellcheck disable=SC2034 # read by helper.bash's nginx template
	WWW_ROOT=$w
	nginx_start -n nginx-ref "$REF_SOCK"
	export REF_URL=$BASE_URL
	nginx_start -n nginx-ref-ttl "$REF_TTL_SOCK"
	export REF_TTL_URL=$BASE_URL
	nginx_start -n nginx-test "$TEST_SOCK"
	export TEST_URL=$BASE_URL
	nginx_start -n nginx-test-ttl "$TEST_TTL_SOCK"
	export TEST_TTL_URL=$BASE_URL
}

teardown_file() {
	teardown_stack
}

# _tree DIR: the document root.  ini.php in every directory; .user.ini
# files at the root (highlight.keyword), in a/ (several settings, some
# that must be refused) and a/b/ (overrides a/).
_tree() {
	local w=$1 dir
	for dir in . a a/b c basedir cache ttl ttlnew ttlgone off widen narrow out out/x bad sect; do
		mkdir -p "$w/$dir"
		cp "$FPMD_SRCDIR/t/data/userini/ini.php" "$w/$dir/ini.php"
	done
	printf 'highlight.keyword = "#000001"\n' >"$w/.user.ini"
	cat >"$w/a/.user.ini" <<-'EOF'
		; PHP_INI_ALL and PHP_INI_PERDIR settings apply
		precision = 7
		upload_max_filesize = 3M
		default_mimetype = "text/plain"
		; PHP_INI_SYSTEM: ignored
		allow_url_fopen = 0
		; locked by the pool's php_admin_value: ignored
		memory_limit = 200M
	EOF
	printf 'precision = 9\nhighlight.keyword = "#000002"\n' >"$w/a/b/.user.ini"
	printf 'open_basedir = "/"\n' >"$w/basedir/.user.ini"
	printf 'precision = 4\n' >"$w/cache/.user.ini"
	printf 'precision = 4\n' >"$w/ttl/.custom.ini"
	printf 'precision = 4\n' >"$w/ttlgone/.custom.ini"
	printf 'precision = 5\n' >"$w/off/.user.ini"
	printf 'upload_max_filesize = 3M\n' >"$w/out/.user.ini"
	printf 'precision = 9\n' >"$w/out/x/.user.ini"
	printf 'precision = 6\nbroken = (\nupload_max_filesize = 5M\n' >"$w/bad/.user.ini"
	printf 'upload_max_filesize = 4M\n' >"$w/sect/.user.ini"
	printf 'open_basedir = "/"\n' >"$w/widen/.custom.ini"
	printf 'open_basedir = "%s"\n' "$w/narrow" >"$w/narrow/.custom.ini"
}

# get URL [CURL_ARGS...]: status line, Content-Type and body of one
# request, for comparing (no Date, no Server).
get() {
	local url=$1 d
	shift
	d=$(t_tmp)
	curl -sS --max-time "$CURL_TIMEOUT" -g -D "$d/get.h" -o "$d/get.b" \
		"$@" "$url" || { echo "curl $url failed" >&2; return 1; }
	tr -d '\r' <"$d/get.h" | grep -iE '^(HTTP/|Content-Type:)'
	cat "$d/get.b"
}

# same PATH [CURL_ARGS...]: PATH through both main pools gives the same
# answer; sets OUT to it.
same() {
	local path=$1 ref
	shift
	ref=$(get "$REF_URL$path" "$@") || return 1
	OUT=$(get "$TEST_URL$path" "$@") || return 1
	[[ $OUT == "$ref" ]] && return 0
	echo "php-fpm and fpmd differ for $path:" >&2
	diff -u --label php-fpm --label fpmd <(echo "$ref") <(echo "$OUT") >&2
	return 1
}

# same_ttl PATH: the same through both ttl pools.
same_ttl() {
	local ref
	ref=$(get "$REF_TTL_URL$1") || return 1
	OUT=$(get "$TEST_TTL_URL$1") || return 1
	[[ $OUT == "$ref" ]] && return 0
	echo "php-fpm and fpmd differ for $1 (ttl pool):" >&2
	diff -u --label php-fpm --label fpmd <(echo "$ref") <(echo "$OUT") >&2
	return 1
}

# fcgi SOCK PARAMS...: a GET of a script straight to SOCK, the body only.
fcgi() {
	local sock=$1 p
	shift
	local -a args=()
	for p in "$@"; do
		args+=(-p "$p")
	done
	"$FPMD_BUILDDIR/t/fcgi-client" -t 20 -b -p REQUEST_METHOD=GET \
		"${args[@]}" "$sock" |
		grep -vE '^(STDOUT [0-9]+ bytes|END_REQUEST .*|EOF)$' |
		tr -d '\r' | sed '1,/^$/d'
}

# has_line TEXT: $OUT has the line TEXT.
has_line() {
	grep -qxF -- "$1" <<<"$OUT" && return 0
	printf 'expected the line: %s\n              in: %s\n' "$1" "$OUT" >&2
	return 1
}

# The value both sides give for a script and its key (for wait_until).
_ttl_both_say() {
	local path=$1 want=$2
	same_ttl "$path" 2>/dev/null && grep -qxF -- "$want" <<<"$OUT"
}

# ------------------------------------------------------------- where ---

@test ".user.ini: applies in its directory and below, the document root's everywhere" {
	same /ini.php
	has_line "precision='14'"
	has_line "highlight.keyword='#000001'"
	has_line "upload_max_filesize='2M'"

	same /a/ini.php
	has_line "precision='7'"
	has_line "upload_max_filesize='3M'"
	has_line "highlight.keyword='#000001'"
	has_line 'Content-Type: text/plain; charset=UTF-8'

	same /a/b/ini.php
	has_line "precision='9'"
	has_line "upload_max_filesize='3M'"
	has_line "highlight.keyword='#000002'"

	same /c/ini.php
	has_line "precision='14'"
	has_line "upload_max_filesize='2M'"
	has_line "highlight.keyword='#000001'"
}

@test ".user.ini: a setting lasts for its request only" {
	same /a/ini.php
	has_line "precision='7'"
	same /ini.php
	has_line "precision='14'"
	has_line "default_mimetype='text/html'"
}

@test ".user.ini: php_admin_value wins, a PHP_INI_SYSTEM setting is ignored" {
	same /a/ini.php
	has_line "memory_limit='100M'"
	has_line "allow_url_fopen='1'"
}

@test ".user.ini: a script outside the document root reads its own directory's file only" {
	local ref
	# (the cache is by directory: out/x is asked for here only)
	ref=$(fcgi "$REF_SOCK" "DOCUMENT_ROOT=$ROOT/c" \
		"SCRIPT_FILENAME=$ROOT/out/x/ini.php" SCRIPT_NAME=/ini.php)
	OUT=$(fcgi "$TEST_SOCK" "DOCUMENT_ROOT=$ROOT/c" \
		"SCRIPT_FILENAME=$ROOT/out/x/ini.php" SCRIPT_NAME=/ini.php)
	assert_eq "$ref" "$OUT" "php-fpm and fpmd"
	has_line "precision='9'"
	# neither out/.user.ini nor the root's
	has_line "upload_max_filesize='2M'"
	if grep -qxF "highlight.keyword='#000001'" <<<"$OUT"; then
		fail "the document root's .user.ini was read"
	fi
}

@test ".user.ini: no DOCUMENT_ROOT, no .user.ini" {
	local ref
	ref=$(fcgi "$REF_SOCK" "SCRIPT_FILENAME=$ROOT/a/ini.php" \
		SCRIPT_NAME=/a/ini.php)
	OUT=$(fcgi "$TEST_SOCK" "SCRIPT_FILENAME=$ROOT/a/ini.php" \
		SCRIPT_NAME=/a/ini.php)
	assert_eq "$ref" "$OUT" "php-fpm and fpmd"
	has_line "precision='14'"
}

@test ".user.ini: user_ini.filename names the file; empty, none is read" {
	# the ttl pool reads .custom.ini, not .user.ini
	same_ttl /a/ini.php
	has_line "precision='14'"
	same_ttl /ttlnew/ini.php
	has_line "precision='14'"
	# fpmd's third pool reads none
	OUT=$(fcgi "$TEST_OFF_SOCK" "DOCUMENT_ROOT=$ROOT" \
		"SCRIPT_FILENAME=$ROOT/off/ini.php" SCRIPT_NAME=/off/ini.php)
	has_line "precision='14'"
	OUT=$(fcgi "$TEST_SOCK" "DOCUMENT_ROOT=$ROOT" \
		"SCRIPT_FILENAME=$ROOT/off/ini.php" SCRIPT_NAME=/off/ini.php)
	has_line "precision='5'"
}

@test ".user.ini: a file with a syntax error" {
	same /bad/ini.php
	has_line "precision='6'"
	has_line "upload_max_filesize='2M'"
	# PHP's message goes to the worker's stderr; fpmd's log names the file
	wait_until 10 grep -qF "$ROOT/bad/.user.ini cannot be read or has a syntax error" "$SHARED_LOG"
	# php-fpm's, caught from the worker's stderr
	wait_until 10 grep -qF \
		"syntax error, unexpected END_OF_LINE in $ROOT/bad/.user.ini on line 3" \
		"$BATS_FILE_TMPDIR/ref/php-fpm.log"
}

@test "php.ini's [PATH=] and [HOST=] sections, then .user.ini" {
	same /sect/ini.php
	has_line "precision='3'"
	has_line "upload_max_filesize='4M'"
	same /c/ini.php
	has_line "precision='14'"
	local ref p=(DOCUMENT_ROOT="$ROOT" "SCRIPT_FILENAME=$ROOT/c/ini.php"
		SCRIPT_NAME=/c/ini.php SERVER_NAME=Sub.Example.TEST)
	ref=$(fcgi "$REF_SOCK" "${p[@]}")
	OUT=$(fcgi "$TEST_SOCK" "${p[@]}")
	assert_eq "$ref" "$OUT" "php-fpm and fpmd"
	has_line "precision='2'"
}

# fpmd alone: php-fpm keeps a param's settings for the worker's later
# requests, which would spoil the comparisons.
@test ".user.ini: wins over PHP_VALUE, not over PHP_ADMIN_VALUE" {
	local p=(DOCUMENT_ROOT="$ROOT" "SCRIPT_FILENAME=$ROOT/a/ini.php"
		SCRIPT_NAME=/a/ini.php)
	OUT=$(fcgi "$TEST_SOCK" "${p[@]}" 'PHP_VALUE=precision=3')
	has_line "precision='7'"
	OUT=$(fcgi "$TEST_SOCK" "${p[@]}" 'PHP_ADMIN_VALUE=precision=5')
	has_line "precision='5'"
	has_line "upload_max_filesize='3M'"
	OUT=$(fcgi "$TEST_SOCK" "${p[@]}")
	has_line "precision='7'"
}

# ------------------------------------------------------------- cache ---

@test ".user.ini: cached for user_ini.cache_ttl (300 s): a change is not seen before" {
	same /cache/ini.php
	has_line "precision='4'"
	printf 'precision = 6\n' >"$ROOT/cache/.user.ini"
	same /cache/ini.php
	has_line "precision='4'"
}

@test ".user.ini: a changed file is seen once user_ini.cache_ttl (1 s) has passed" {
	same_ttl /ttl/ini.php
	has_line "precision='4'"
	printf 'precision = 6\n' >"$ROOT/ttl/.custom.ini"
	wait_until 20 _ttl_both_say /ttl/ini.php "precision='6'" ||
		{ same_ttl /ttl/ini.php; has_line "precision='6'"; }
}

@test ".user.ini: a new file and a removed one are seen once the cache expires" {
	same_ttl /ttlnew/ini.php
	has_line "precision='14'"
	same_ttl /ttlgone/ini.php
	has_line "precision='4'"
	printf 'precision = 8\n' >"$ROOT/ttlnew/.custom.ini"
	rm "$ROOT/ttlgone/.custom.ini"
	wait_until 20 _ttl_both_say /ttlnew/ini.php "precision='8'" ||
		{ same_ttl /ttlnew/ini.php; has_line "precision='8'"; }
	wait_until 20 _ttl_both_say /ttlgone/ini.php "precision='14'" ||
		{ same_ttl /ttlgone/ini.php; has_line "precision='14'"; }
}

# ------------------------------------------------------ open_basedir ---

@test "open_basedir: .user.ini cannot widen php_admin_value's" {
	same "/basedir/ini.php?probe=/etc/passwd"
	has_line "open_basedir='$ROOT:/tmp'"
	has_line "probe=refused"
}

@test "open_basedir: .user.ini can narrow a php_value, not widen it" {
	same_ttl "/widen/ini.php?probe=/etc/passwd"
	has_line "probe=refused"
	has_line "open_basedir='$ROOT:/tmp'"
	same_ttl "/narrow/ini.php?probe=$ROOT/ini.php"
	has_line "open_basedir='$ROOT/narrow'"
	has_line "probe=refused"
}

# php-fpm differs here on purpose (docs/compatibility.md): its
# PHP_ADMIN_VALUE, and even its PHP_VALUE, replace open_basedir whatever
# it was.  fpmd alone.
@test "open_basedir: PHP_VALUE and PHP_ADMIN_VALUE cannot widen it, and are logged" {
	local p=(DOCUMENT_ROOT="$ROOT" "SCRIPT_FILENAME=$ROOT/c/ini.php"
		SCRIPT_NAME=/c/ini.php QUERY_STRING=probe=/etc/passwd)
	OUT=$(fcgi "$TEST_SOCK" "${p[@]}" 'PHP_ADMIN_VALUE=open_basedir=/')
	has_line "open_basedir='$ROOT:/tmp'"
	has_line "probe=refused"
	wait_until 10 grep -qF "PHP_ADMIN_VALUE: cannot set 'open_basedir' (it can only narrow" "$SHARED_LOG"
	OUT=$(fcgi "$TEST_SOCK" "${p[@]}" 'PHP_VALUE=open_basedir=/')
	has_line "open_basedir='$ROOT:/tmp'"
	wait_until 10 grep -qF "PHP_VALUE: cannot set 'open_basedir'" "$SHARED_LOG"
	# the ttl pool's open_basedir is a php_value: PHP_VALUE may narrow it,
	# not widen it
	OUT=$(fcgi "$TEST_TTL_SOCK" "${p[@]}" 'PHP_VALUE=open_basedir=/')
	has_line "open_basedir='$ROOT:/tmp'"
	has_line "probe=refused"
}

@test "open_basedir: PHP_ADMIN_VALUE and PHP_VALUE can narrow it, for one request" {
	local p=(DOCUMENT_ROOT="$ROOT" "SCRIPT_FILENAME=$ROOT/c/ini.php"
		SCRIPT_NAME=/c/ini.php "QUERY_STRING=probe=$ROOT/ini.php")
	OUT=$(fcgi "$TEST_SOCK" "${p[@]}" "PHP_ADMIN_VALUE=open_basedir=$ROOT/c")
	has_line "open_basedir='$ROOT/c'"
	has_line "probe=refused"
	OUT=$(fcgi "$TEST_TTL_SOCK" "${p[@]}" "PHP_VALUE=open_basedir=$ROOT/c")
	has_line "open_basedir='$ROOT/c'"
	has_line "probe=refused"
	OUT=$(fcgi "$TEST_SOCK" "${p[@]}")
	has_line "open_basedir='$ROOT:/tmp'"
	has_line "probe=read"
}
