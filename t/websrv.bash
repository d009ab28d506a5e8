# Web servers other than nginx in front of fpmd and of php-fpm, for
# t/apache.bats, t/caddy.bats and t/lighttpd.bats (load helper first).
#
# Each server is the real one from Debian's package, started here with its
# own config, files and ports under the test's temporary directory (never
# the machine's service), in the foreground, and stopped by teardown.  The
# FastCGI part of each config is the snippet shipped in contrib/, with its
# socket path and document root replaced: what is tested is what users copy.
#
# ws_compare sends the same curl request through two servers of one kind,
# one in front of php-fpm 8.2 (the reference), one in front of fpmd, and
# wants the same answer once ports, dates and temporary names are
# normalised.

# shellcheck disable=SC2034,SC2119,SC2120

APACHE_BIN=${APACHE_BIN:-/usr/sbin/apache2}
APACHE_MODULES=${APACHE_MODULES:-/usr/lib/apache2/modules}
CADDY_BIN=${CADDY_BIN:-/usr/bin/caddy}
LIGHTTPD_BIN=${LIGHTTPD_BIN:-/usr/sbin/lighttpd}

declare -gA _WS_PID _WS_DIR

# require_prog PATH PACKAGE: skip unless PATH is there.
require_prog() {
	[[ -x $1 ]] ||
		skip "needs $1 (Debian package $2; contrib/setup.sh installs it)"
}

# ws_snippet FILE SOCK: a contrib snippet with the test's socket and
# document root in place of /run/fpmd/www.sock and /var/www/html.
ws_snippet() {
	sed -e "s#/run/fpmd/www.sock#$2#g" -e "s#/var/www/html#$WWW_ROOT#g" \
		"$FPMD_SRCDIR/contrib/$1"
}

# ws_user: the user a server that drops root runs as ("" when not root).
ws_user() {
	((EUID == 0)) && echo www-data
	return 0
}

# _ws_apache_conf DIR PORT PORT2 SOCK: Apache with the SetHandler snippet
# on PORT and the ProxyPassMatch one on PORT2.
_ws_apache_conf() {
	local dir=$1 port=$2 port2=$3 sock=$4 user m
	user=$(ws_user)
	for m in mpm_event authz_core alias mime dir setenvif proxy proxy_fcgi; do
		echo "LoadModule ${m}_module $APACHE_MODULES/mod_$m.so"
	done
	if [[ -n $user ]]; then
		echo "User $user"
		echo "Group $user"
	fi
	cat <<EOF
ServerRoot $dir
ServerName localhost
DefaultRuntimeDir $dir
PidFile $dir/httpd.pid
Mutex file:$dir default
ErrorLog $dir/error.log
LogLevel warn
LogFormat "%h %l %u %t \"%r\" %>s %b" common
CustomLog $dir/access.log common
TypesConfig /etc/mime.types
# One process, enough threads for the tests' parallel requests.
StartServers 1
ServerLimit 1
ThreadsPerChild 25
MaxRequestWorkers 25
Timeout 60

Listen 127.0.0.1:$port
Listen 127.0.0.1:$port2
Alias /__ws_ready $dir/ready.txt
<Directory $dir>
    Require all granted
</Directory>
DocumentRoot $WWW_ROOT
<Directory $WWW_ROOT>
    Require all granted
    DirectoryIndex index.php index.html
</Directory>

<VirtualHost 127.0.0.1:$port>
    Include $dir/fpmd.conf
</VirtualHost>
<VirtualHost 127.0.0.1:$port2>
    Include $dir/fpmd-proxypass.conf
</VirtualHost>
EOF
}

_ws_caddy_conf() {
	local dir=$1 port=$2 sock=$3 line
	cat <<EOF
{
	admin off
	auto_https off
	storage file_system $dir/data
	log {
		output file $dir/error.log
	}
}
EOF
	# The snippet's site, on the test's port, with the ready page first.
	ws_snippet caddy/Caddyfile "$sock" | while IFS= read -r line; do
		if [[ $line == ':80 {' ]]; then
			printf 'http://127.0.0.1:%s {\n' "$port"
			printf '\thandle_path /__ws_ready {\n'
			printf '\t\troot * %s\n' "$dir"
			printf '\t\trewrite * /ready.txt\n'
			printf '\t\tfile_server\n\t}\n'
		else
			printf '%s\n' "$line"
		fi
	done
}

_ws_lighttpd_conf() {
	local dir=$1 port=$2 sock=$3 user
	user=$(ws_user)
	[[ -n $user ]] && printf 'server.username = "%s"\nserver.groupname = "%s"\n' "$user" "$user"
	cat <<EOF
server.document-root = "$WWW_ROOT"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$dir/error.log"
server.pid-file = "$dir/lighttpd.pid"
server.upload-dirs = ( "$dir/upload" )
server.modules = ( "mod_alias", "mod_accesslog" )
accesslog.filename = "$dir/access.log"
alias.url = ( "/__ws_ready" => "$dir/ready.txt" )
mimetype.assign = ( ".html" => "text/html", ".txt" => "text/plain" )
server.max-request-size = 65536
include "$dir/fpmd.conf"
EOF
}

# _ws_answers PID URL TOKEN: the server answers its ready page with TOKEN
# (or has died: stop waiting, the caller checks).
_ws_answers() {
	local body
	proc_alive "$1" || return 0
	body=$(curl -sS --max-time 2 "$2/__ws_ready" 2>/dev/null) || return 1
	[[ $body == "$3" ]]
}

# ws_start KIND NAME SOCK: start a web server of KIND (apache, caddy,
# lighttpd) called NAME, files in $(t_tmp)/NAME/, in front of the FastCGI
# socket SOCK, on free 127.0.0.1 ports.  Sets WS_URL (and, for Apache,
# WS_URL2: the ProxyPassMatch virtual host) and WS_PORTS (all its ports,
# "|"-separated).
ws_start() {
	local kind=$1 name=$2 sock=$3 dir port port2='' token pid user try
	local -a cmd
	dir=$(t_tmp)/$name || return 1
	mkdir -p "$dir/upload" "$dir/data"
	user=$(ws_user)
	# A server that drops root must reach the socket and its own files.
	if [[ -n $user ]]; then
		open_path "$(dirname "$sock")"
		open_path "$dir"
	fi
	token="ws-$name-$RANDOM$RANDOM"
	echo "$token" >"$dir/ready.txt"
	for try in 1 2 3 4 5; do
		port=$(free_port)
		case $kind in
		apache)
			port2=$(free_port)
			[[ $port2 != "$port" ]] || continue
			ws_snippet apache/fpmd.conf "$sock" >"$dir/fpmd.conf"
			ws_snippet apache/fpmd-proxypass.conf "$sock" \
				>"$dir/fpmd-proxypass.conf"
			_ws_apache_conf "$dir" "$port" "$port2" "$sock" >"$dir/httpd.conf"
			cmd=("$APACHE_BIN" -d "$dir" -f "$dir/httpd.conf" -DFOREGROUND)
			;;
		caddy)
			_ws_caddy_conf "$dir" "$port" "$sock" >"$dir/Caddyfile"
			cmd=(env HOME="$dir" XDG_DATA_HOME="$dir/data"
				XDG_CONFIG_HOME="$dir/data" "$CADDY_BIN" run
				--config "$dir/Caddyfile" --adapter caddyfile)
			;;
		lighttpd)
			ws_snippet lighttpd/fpmd.conf "$sock" >"$dir/fpmd.conf"
			_ws_lighttpd_conf "$dir" "$port" "$sock" >"$dir/lighttpd.conf"
			cmd=("$LIGHTTPD_BIN" -D -f "$dir/lighttpd.conf")
			;;
		*)
			fail "ws_start: unknown web server $kind"
			return 1
			;;
		esac
		: >"$dir/error.log"
		# lighttpd opens its logs after dropping root.
		[[ -n $user ]] && chown -R "$user" "$dir"
		_spawn "$dir/server.out" "${cmd[@]}"
		pid=$SPAWNED_PID
		if wait_until "$START_TIMEOUT" _ws_answers "$pid" \
			"http://127.0.0.1:$port" "$token" && proc_alive "$pid" &&
			{ [[ -z $port2 ]] || wait_until "$START_TIMEOUT" \
				_ws_answers "$pid" "http://127.0.0.1:$port2" "$token"; }; then
			_WS_PID[$name]=$pid
			_WS_DIR[$name]=$dir
			WS_URL=http://127.0.0.1:$port
			WS_URL2=${port2:+http://127.0.0.1:$port2}
			WS_PORTS=$port${port2:+|$port2}
			return 0
		fi
		_kill_group "$pid"
		grep -qi 'address already in use' "$dir/error.log" \
			"$dir/server.out" 2>/dev/null && continue
		break
	done
	echo "ws_start: $kind ($name) did not come up" >&2
	_dump_log "$name" "$dir/server.out"
	_dump_log "$name" "$dir/error.log"
	return 1
}

# ws_stop [NAME...]: stop web servers (default: all started) with SIGTERM,
# which each of them takes as "stop" and exits 0 after, then check nothing
# of them is left.
ws_stop() {
	local name ret=0
	local -a names
	if (($#)); then names=("$@"); else names=("${!_WS_PID[@]}"); fi
	for name in "${names[@]}"; do
		[[ -n ${_WS_PID[$name]:-} ]] || continue
		_stop_daemon "$name" "${_WS_PID[$name]}" TERM \
			"${_WS_DIR[$name]}/error.log" || ret=1
		unset "_WS_PID[$name]"
	done
	return $ret
}

# ws_teardown: stop the web servers, then what teardown_stack stops.
ws_teardown() {
	local ret=0
	ws_stop || ret=1
	teardown_stack || ret=1
	return $ret
}

# --------------------------------------------------------- comparison ---

# ws_setup_pair KIND: php-fpm and fpmd with the same pool settings, a KIND
# server in front of each.  Exports REF_URL/TEST_URL (and REF_URL2/
# TEST_URL2 for Apache's ProxyPassMatch), REF_PORTS/TEST_PORTS, FILES.
ws_setup_pair() {
	local kind=$1 d
	d=$(t_tmp) || return 1
	mkdir -p "$d/sessions" "$d/upload" "$d/files"
	ws_make_files "$d/files"
	# Apache and lighttpd drop root and must see the document root; a
	# checkout under a private home directory is copied where they can.
	if [[ -n $(ws_user) ]] &&
		! runuser -u "$(ws_user)" -- test -r "$WWW_ROOT/server.php"; then
		cp -a "$WWW_ROOT" "$d/www"
		open_path "$d/www"
		WWW_ROOT=$d/www
		export WWW_ROOT
	fi
	phpfpm_start -n php-fpm \
		"php_admin_value[upload_tmp_dir] = $d/upload" \
		"php_admin_value[session.save_path] = $d/sessions"
	fpmd_conf 'php_admin_value {' "    upload_tmp_dir = \"$d/upload\"" \
		"    session.save_path = \"$d/sessions\"" '}'
	fpmd_start
	ws_start "$kind" ref "$PHPFPM_SOCK" || return 1
	export REF_URL=$WS_URL REF_URL2=$WS_URL2 REF_PORTS=$WS_PORTS
	ws_start "$kind" test "$FPMD_SOCK" || return 1
	export TEST_URL=$WS_URL TEST_URL2=$WS_URL2 TEST_PORTS=$WS_PORTS
	export FILES=$d/files
}

ws_make_files() {
	local f=$1 i
	printf 'hello upload\n' >"$f/small.txt"
	printf '{"a":1,"b":[true,null,"x"]}' >"$f/data.json"
	for ((i = 0; i < 256; i++)); do
		# shellcheck disable=SC2059
		printf "\\x$(printf %02x "$i")"
	done >"$f/binary.bin"
	: >"$f/empty"
	yes 'fpmd web server pattern line 0123456789 abcdefghijklmnopqrstuvwxyz' |
		head -c $((1024 * 1024)) >"$f/1m.bin"
}

# ws_normalise PORTS: stdin to stdout with what may differ between two
# servers answering the same request (their ports, the date, PHP's
# temporary names, multipart boundaries, session ids) replaced by fixed
# text.
ws_normalise() {
	sed -E \
		-e 's/^Date: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT/Date: DATE/' \
		-e "s/:($1)([^0-9]|\$)/:PORT\\2/g" \
		-e "s/^(SERVER_PORT|REMOTE_PORT)=[0-9]+\$/\\1=PORT/" \
		-e "s/^(REQUEST_TIME|REQUEST_TIME_FLOAT)=[0-9.]+\$/\\1=TIME/" \
		-e 's/PHPSESSID=[A-Za-z0-9,-]+/PHPSESSID=SESSID/g' \
		-e 's#/php[A-Za-z0-9]{6}([^A-Za-z0-9]|$)#/phpXXXXXX\1#g' \
		-e 's/boundary=-*[A-Za-z0-9]+/boundary=BOUNDARY/g' \
		-e 's/^(-+)[0-9a-f]{16,}(--)?(\r?)$/\1BOUNDARY\2\3/' \
		-e 's/^(ETag|Last-Modified): .*/\1: X/' \
		-e "s#$(t_tmp)/(ref|test)/#TMP/SIDE/#g"
}

# _ws_curl BASE BASE2 OUT CURL_ARGS...: curl -i with {B} and {P} in the
# arguments replaced by the side's URLs; a curl failure goes into OUT, so
# that it is compared too.
_ws_curl() {
	local base=$1 base2=$2 out=$3 a rc=0
	shift 3
	local -a args=()
	for a in "$@"; do
		a=${a//\{B\}/$base}
		args+=("${a//\{P\}/$base2}")
	done
	curl -sS -i --max-time "$CURL_TIMEOUT" -H 'Expect:' "${args[@]}" \
		>"$out" 2>"$out.err" || rc=$?
	if ((rc)); then
		printf '\n[curl exit status %s: %s]\n' "$rc" \
			"$(tr '\n' ' ' <"$out.err")" >>"$out"
	fi
	return 0
}

# ws_compare_with FUNC ARGS...: FUNC BASE BASE2 OUT ARGS... for both sides,
# normalised and compared; a diff on mismatch.  Sets WS_REF and WS_TEST to
# the normalised answers.
ws_compare_with() {
	local fn=$1 d rc=0
	shift
	d=$(t_tmp)
	"$fn" "$REF_URL" "$REF_URL2" "$d/ref.raw" "$@" || rc=1
	"$fn" "$TEST_URL" "$TEST_URL2" "$d/test.raw" "$@" || rc=1
	((rc == 0)) || { echo "request function $fn failed" >&2; return 1; }
	ws_normalise "$REF_PORTS" <"$d/ref.raw" >"$d/ref.out"
	ws_normalise "$TEST_PORTS" <"$d/test.raw" >"$d/test.out"
	WS_REF=$(tr -d '\r' <"$d/ref.out")
	WS_TEST=$(tr -d '\r' <"$d/test.out")
	cmp -s "$d/ref.out" "$d/test.out" && return 0
	echo "responses differ (php-fpm vs fpmd): $fn $*" >&2
	diff -u --label php-fpm --label fpmd <(cat -A "$d/ref.out") \
		<(cat -A "$d/test.out") | head -n 120 | cut -c 1-300 >&2
	return 1
}

# ws_compare CURL_ARGS...: the same curl request to both sides; {B} is the
# side's base URL, {P} Apache's ProxyPassMatch one.
ws_compare() {
	ws_compare_with _ws_curl "$@"
}

# ws_expect TEXT: the fpmd side's last answer (WS_TEST) contains TEXT; on
# failure, shows its head only (some answers are a megabyte).
ws_expect() {
	[[ $WS_TEST == *"$1"* ]] && return 0
	printf 'expected the answer to contain: %s\n' "$1" >&2
	head -n 40 <<<"$WS_TEST" | cut -c 1-200 >&2
	return 1
}

# ------------------------------------------------ a client that goes ---

# client_drop BASE NAME QUERY: start abort/loop.php through BASE (a web
# server), let it write a few steps, drop the client (curl killed), then
# wait for the script's shutdown function.  Prints a summary: the
# shutdown line, whether the script reached its end, and whether it
# stopped soon after the drop (t/abort.bats).
client_drop() {
	local base=$1 name=$2 query=$3 d f pid last at_drop
	d=$(t_tmp)
	f=$d/$name.steps
	curl -sS -N --max-time 60 "$base/abort/loop.php?f=$f&$query" \
		>"$d/$name.body" 2>/dev/null 3>&- &
	pid=$!
	if ! wait_until 20 grep -qs '^step 3$' "$f"; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		echo "$name: the script did not start within 20 s" >&2
		return 1
	fi
	{ kill -KILL "$pid"; wait "$pid"; } 2>/dev/null || true
	at_drop=$(grep -c '^step' "$f")
	if ! wait_until 30 grep -q '^shutdown' "$f"; then
		echo "$name: no shutdown function within 30 s of the drop" >&2
		tail -n 3 "$f" >&2
		return 1
	fi
	last=$(grep -c '^step' "$f")
	grep '^shutdown' "$f"
	if grep -qx end "$f"; then
		echo "ran to its end"
	else
		echo "stopped before its end"
	fi
	# A script that goes on after the drop writes a step every 10 ms;
	# one that stops does so at its next write (the web server may have
	# read a few steps more before it saw its client go).
	if ((last - at_drop < 100)); then
		echo "stopped soon after the drop"
	else
		echo "ran on after the drop"
		echo "$name: $((last - at_drop)) steps after the drop" >&2
	fi
}
