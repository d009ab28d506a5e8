#!/usr/bin/env bats
# What PHP sees through fpmd, beyond what t/compat.bats compares with
# php-fpm: PHP_VALUE/PHP_ADMIN_VALUE params and pool ini settings,
# fastcgi_finish_request(), security.limit_extensions, httpoxy, request
# time, streaming, uploads and a worker's life after a fatal error.

load helper
bats_require_minimum_version 1.5.0

# ------------------------------------------------------------ local helpers
# (candidates for t/helper.bash)

# NGINX_EXTRA: server-level nginx text added to every nginx this file
# starts, before the .php location (so its regex locations win); @PASS@ is
# replaced by the fastcgi_pass target and @KEEP@ by fastcgi_keep_conn on
# (keepalive) or nothing. A wrapper around helper.bash's template.
eval "$(declare -f _nginx_conf | sed '1s/^_nginx_conf /_nginx_conf_base /')"
_nginx_conf() {
	local sock=$3 ka=$4 pass keep='' extra
	if ((ka)); then
		pass=php_backend
		keep='fastcgi_keep_conn on;'
	else
		pass=unix:$sock
	fi
	extra=${NGINX_EXTRA//@PASS@/$pass}
	extra=${extra//@KEEP@/$keep}
	_nginx_conf_base "$@" |
		EXTRA=$extra awk '{ print } /^ *index index\.php/ { print ENVIRON["EXTRA"] }'
}

# shellcheck disable=SC2016 # nginx variables
# A location whose URL is /PREFIX/path/to/script.php runs
# $document_root/path/to/script.php with extra fastcgi_param lines.
_prefixed_location() {
	local prefix=$1
	shift
	printf '        location ~ ^/%s(/.+\\.php)$ {\n' "$prefix"
	printf '            include /etc/nginx/fastcgi_params;\n'
	printf '            fastcgi_param SCRIPT_FILENAME $document_root$1;\n'
	printf '            %s\n' "$@"
	printf '            fastcgi_pass @PASS@;\n'
	printf '            @KEEP@\n'
	printf '        }\n'
}

NGINX_EXTRA="$(
	_prefixed_location pv 'fastcgi_param PHP_VALUE "precision=3";'
	_prefixed_location pav 'fastcgi_param PHP_ADMIN_VALUE "precision=5";'
	_prefixed_location pvu 'fastcgi_param PHP_VALUE "upload_max_filesize=10M \n post_max_size=12M \n max_input_vars=7";'
	_prefixed_location stream 'fastcgi_buffering off;'
	cat <<'EOF'
        location ~ \.php5$ {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_pass @PASS@;
            @KEEP@
        }
EOF
)"

# body_value KEY: the value of a "KEY=value" line of $HTTP_BODY.
body_value() {
	local l
	while IFS= read -r l; do
		if [[ $l == "$1="* ]]; then
			printf '%s\n' "${l#*=}"
			return 0
		fi
	done <<<"$HTTP_BODY"
	echo "no line $1= in: $HTTP_BODY" >&2
	return 1
}

# get_ok URL [CURL_ARGS...]: http (no curl globbing: URLs have "[]"), and
# the status must be 200.
get_ok() {
	local url=$1
	shift
	http -g "$@" "$url" || return 1
	assert_eq 200 "$HTTP_STATUS" "status of $url" || {
		printf '%s\n' "$HTTP_BODY" >&2
		return 1
	}
}

# The shared stack, for the tests that need no pool settings of their own:
# one fpmd with two pools of one worker each, "www" behind a plain nginx
# ($PLAIN) and "ka" behind a keepalive one ($KA) (one worker cannot serve
# two nginx when one keeps its connection). Tests with settings of their
# own start their own fpmd and nginx (stopped by teardown).
setup_file() {
	local d=$BATS_FILE_TMPDIR pool
	mkdir -p "$d/upload"
	FPMD_CONF=$d/fpmd.conf
	{
		echo 'log_level = notice'
		echo "php_ini = \"$PHP_INI\""
		echo "control.socket = \"$d/control.sock\""
		for pool in www ka; do
			echo "pool $pool {"
			echo "    listen = \"$d/$pool.sock\""
			echo '    listen.mode = 0666'
			echo '    pm = static'
			echo '    pm.max_children = 1'
			echo "    php_admin_value { upload_tmp_dir = \"$d/upload\" }"
			echo '}'
		done
	} >"$FPMD_CONF"
	check_sock_path "$d/www.sock"
	fpmd_start
	export SHARED_LOG=$FPMD_LOG SHARED_UPLOAD=$d/upload
	nginx_start -n nginx-plain "$d/www.sock"
	export PLAIN=$BASE_URL
	nginx_start --keepalive -n nginx-ka "$d/ka.sock"
	export KA=$BASE_URL
}

teardown_file() {
	teardown_stack
}

teardown() {
	teardown_stack
}

# shared [--keepalive]: BASE_URL and FPMD_LOG of the shared stack.
shared() {
	if [[ ${1:-} == --keepalive ]]; then
		BASE_URL=$KA
	else
		BASE_URL=$PLAIN
	fi
	FPMD_LOG=$SHARED_LOG
}

# log_count TEXT: lines of the fpmd log with TEXT.
log_count() {
	grep -cF -- "$1" "$FPMD_LOG" || true
}

_log_count_above() {
	(($(log_count "$2") > $1))
}

# --------------------------------------------------------- PHP_VALUE param

# php_value_one_request [--keepalive]
php_value_one_request() {
	local pid
	shared "$@"
	get_ok "$BASE_URL/feat/ini.php?k=precision"
	pid=$(body_value pid)
	assert_eq "'14'" "$(body_value precision)" "default precision"

	get_ok "$BASE_URL/pv/feat/ini.php?k=precision"
	assert_eq "$pid" "$(body_value pid)" "the same worker"
	assert_eq "'3'" "$(body_value precision)" "precision with PHP_VALUE"
	assert_eq "0.333" "$(body_value third)" "1/3 with precision 3"

	# The next request on the same worker, without the param: the default.
	# (php-fpm keeps the value in the worker; fpmd does not, on purpose.)
	get_ok "$BASE_URL/feat/ini.php?k=precision"
	assert_eq "$pid" "$(body_value pid)" "the same worker"
	assert_eq "'14'" "$(body_value precision)" "precision after a PHP_VALUE request"
	assert_eq "0.33333333333333" "$(body_value third)"
}

@test "PHP_VALUE applies to its request only" {
	php_value_one_request
}

@test "PHP_VALUE applies to its request only (nginx keepalive)" {
	php_value_one_request --keepalive
}

# php-fpm lets PHP_VALUE set what a pool's php_value can, per-directory
# (PHP_INI_PERDIR) settings among them: sites raise their upload limits
# this way from nginx.  Only settings php_admin_value fixed stay out.
@test "PHP_VALUE sets per-directory settings (upload_max_filesize, post_max_size, max_input_vars): a 3 MB upload passes the 2M default" {
	local d
	d=$(t_tmp)
	shared --keepalive
	get_ok "$BASE_URL/pvu/feat/ini.php?k=upload_max_filesize,post_max_size,max_input_vars"
	assert_eq "'10M'" "$(body_value upload_max_filesize)"
	assert_eq "'12M'" "$(body_value post_max_size)"
	assert_eq "'7'" "$(body_value max_input_vars)"
	head -c 3000000 /dev/urandom >"$d/big"
	get_ok "$BASE_URL/pvu/feat/upload.php" -F "up=@$d/big"
	assert_contains "$HTTP_BODY" "up big 3000000 0 $(md5sum <"$d/big" | cut -d' ' -f1) true"
	# without the param, PHP's 2M: the file is refused (error 1; the
	# script then fails on md5_file(''), a 500)
	http -g "$BASE_URL/feat/upload.php" -F "up=@$d/big"
	assert_contains "$HTTP_BODY" "up big 0 1 "
	assert_not_contains "$(cat "$FPMD_LOG")" "PHP_VALUE: cannot set 'upload_max_filesize'"
}

@test "PHP_ADMIN_VALUE cannot be changed by ini_set in its request, and lasts one request" {
	local pid
	shared --keepalive
	get_ok "$BASE_URL/pav/feat/ini.php?k=precision&set[]=precision:9"
	pid=$(body_value pid)
	assert_eq "'5'" "$(body_value precision)" "precision with PHP_ADMIN_VALUE"
	assert_eq "false" "$(body_value 'ini_set(precision)')" "ini_set of an admin value"
	assert_eq "'5'" "$(body_value 'precision after')"
	get_ok "$BASE_URL/feat/ini.php?k=precision&set[]=precision:9"
	assert_eq "$pid" "$(body_value pid)" "the same worker"
	assert_eq "'14'" "$(body_value precision)" "precision on the next request"
	assert_eq "'14'" "$(body_value 'ini_set(precision)')" "ini_set is allowed again"
}

@test "php_value_params = no: PHP_VALUE and PHP_ADMIN_VALUE are ignored, and a log line says so" {
	fpmd_conf 'pm.max_children = 1' 'php_value_params = no'
	fpmd_start
	nginx_start
	get_ok "$BASE_URL/pv/feat/ini.php?k=precision"
	assert_eq "'14'" "$(body_value precision)" "precision with a refused PHP_VALUE"
	wait_log "PHP_VALUE"
	assert_log_contains "php_value_params = no"
	get_ok "$BASE_URL/pav/feat/ini.php?k=precision"
	assert_eq "'14'" "$(body_value precision)" "precision with a refused PHP_ADMIN_VALUE"
	wait_log "PHP_ADMIN_VALUE"
}

# ------------------------------------------------------ pool ini settings

@test "pool php_value can be changed by ini_set, php_admin_value cannot" {
	fpmd_conf 'pm.max_children = 1' \
		'php_value { precision = 6 }' \
		'php_admin_value { memory_limit = 96M }'
	fpmd_start
	nginx_start
	get_ok "$BASE_URL/feat/ini.php?k=precision,memory_limit&set[]=precision:8&set[]=memory_limit:100M"
	assert_eq "'6'" "$(body_value precision)"
	assert_eq "'96M'" "$(body_value memory_limit)"
	assert_eq "'6'" "$(body_value 'ini_set(precision)')" "ini_set of a php_value"
	assert_eq "'8'" "$(body_value 'precision after')"
	assert_eq "false" "$(body_value 'ini_set(memory_limit)')" "ini_set of a php_admin_value"
	assert_eq "'96M'" "$(body_value 'memory_limit after')"
	# the script's ini_set does not outlive its request
	get_ok "$BASE_URL/feat/ini.php?k=precision"
	assert_eq "'6'" "$(body_value precision)" "precision on the next request"
}

@test "php_flag and php_admin_flag work" {
	fpmd_conf 'pm.max_children = 1' \
		'php_flag { display_errors = on }' \
		'php_admin_flag { html_errors = off }'
	fpmd_start
	nginx_start
	get_ok "$BASE_URL/feat/ini.php?k=display_errors,html_errors&set[]=display_errors:0&set[]=html_errors:1"
	assert_eq "'1'" "$(body_value display_errors)"
	assert_eq "'0'" "$(body_value html_errors)"
	assert_eq "'1'" "$(body_value 'ini_set(display_errors)')" "ini_set of a php_flag"
	assert_eq "false" "$(body_value 'ini_set(html_errors)')" "ini_set of a php_admin_flag"
	# display_errors on: a fatal error shows in the page, with no HTML
	http "$BASE_URL/fatal.php"
	assert_contains "$HTTP_BODY" "Fatal error: Uncaught Error: Call to undefined function no_such_function()"
	assert_not_contains "$HTTP_BODY" "<b>"
}

# -------------------------------------------------- fastcgi_finish_request

# finish_request [--keepalive]: the client has its answer at once, the
# work after fastcgi_finish_request() goes on, and the pool serves others.
finish_request() {
	local d=$BATS_TEST_TMPDIR t0 t1
	fpmd_conf 'pm.max_children = 2'
	fpmd_start
	nginx_start "$@"
	get_ok "$BASE_URL/hello.php"
	t0=$(now_ms)
	get_ok "$BASE_URL/feat/finish_work.php?f=$d/done"
	t1=$(now_ms)
	assert_eq "before finish" "$HTTP_BODY"
	(((t1 - t0) < 1500)) || fail "the answer took $((t1 - t0)) ms (the script sleeps 2 s after fastcgi_finish_request)"
	# The work goes on: not done yet, other requests are served meanwhile.
	[[ ! -e $d/done ]] || fail "the work after fastcgi_finish_request() was done before the answer"
	get_ok "$BASE_URL/hello.php"
	assert_eq "Hello, world!" "$HTTP_BODY"
	get_ok "$BASE_URL/hello.php"
	[[ ! -e $d/done ]]
	wait_until 10 test -s "$d/done"
	assert_eq "work done after finish, returned true" "$(cat "$d/done")"
	get_ok "$BASE_URL/hello.php"
}

@test "fastcgi_finish_request(): answer at once, the work after it still happens" {
	finish_request
}

@test "fastcgi_finish_request(): the same through nginx keepalive" {
	finish_request --keepalive
}

# finish_then MODE [--keepalive] [CURL_ARGS...]: through the shared stack,
# feat/finish_after.php?m=MODE: the client gets exactly what came before
# fastcgi_finish_request(), and the script runs to its end, shutdown
# function included, whatever it writes after finishing.
finish_then() {
	local mode=$1 f=$BATS_TEST_TMPDIR/done
	shift
	shared "${1:-}"
	[[ ${1:-} == --keepalive ]] && shift
	get_ok "$BASE_URL/feat/finish_after.php?m=$mode&f=$f" "$@"
	printf 'before finish\n' | cmp -s - "$HTTP_BODY_FILE" ||
		fail "the client got more or less than the part before finishing:" "$(od -c "$HTTP_BODY_FILE" | head)"
	wait_until 10 grep -q 'shutdown function ran' "$f" ||
		fail "the shutdown function did not run: $(cat "$f" 2>&1)"
	assert_eq "end of script, fastcgi_finish_request() returned true, connection_status() 0
shutdown function ran" "$(cat "$f")" "what the script did after finishing"
	# The worker serves on.
	get_ok "$BASE_URL/hello.php"
	assert_eq "Hello, world!" "$HTTP_BODY"
}

@test "fastcgi_finish_request(), then echo: the script runs to its end" {
	finish_then echo
}

@test "fastcgi_finish_request(), then print and printf" {
	finish_then print
}

@test "fastcgi_finish_request(), then var_dump" {
	finish_then var_dump
}

@test "fastcgi_finish_request(), then flush() and 100 KB" {
	finish_then flush
}

@test "fastcgi_finish_request(), then 1 MiB of output" {
	finish_then big
}

@test "fastcgi_finish_request() with an output buffer open, then more buffers" {
	finish_then ob -G -d ob=1
}

@test "fastcgi_finish_request(), then echo and flush: the same through nginx keepalive" {
	finish_then flush --keepalive
}

# ----------------------------------------------------------- redirects

# 302, as php-fpm: PHP turns a redirect after a POST into 303 only when
# told the protocol is HTTP/1.1, and php-fpm never tells it.
redirect_after_post() {
	shared "$@"
	http -d 'name=value' "$BASE_URL/headers.php?c=location"
	assert_eq 302 "$HTTP_STATUS" "status of a redirect after a form POST"
	assert_contains "$HTTP_HEADERS" "Location: /hello.php"
	http -X PUT -d 'x' "$BASE_URL/headers.php?c=location"
	assert_eq 302 "$HTTP_STATUS" "status of a redirect after a PUT"
	# The request's protocol is still there for the script.
	get_ok "$BASE_URL/server.php"
	assert_eq HTTP/1.1 "$(body_value SERVER_PROTOCOL)"
}

@test "header('Location: ...') after a form POST: 302 Found, as php-fpm" {
	redirect_after_post
}

@test "header('Location: ...') after a form POST: 302 through nginx keepalive" {
	redirect_after_post --keepalive
}

# ------------------------------------------------------------------ misc

@test "getallheaders() has the request headers" {
	shared
	get_ok "$BASE_URL/getallheaders.php" -H 'X-Foo-Bar: baz qux' -H 'Content-Type: text/plain' -d 'x=1'
	assert_contains "$HTTP_BODY" "X-Foo-Bar: baz qux"
	assert_contains "$HTTP_BODY" "Content-Type: text/plain"
	assert_contains "$HTTP_BODY" "Content-Length: 3"
	# Debian's fastcgi_params pass HTTP_HOST as $host: no port
	assert_contains "$HTTP_BODY" $'\nHost: 127.0.0.1\n'
	assert_contains "$HTTP_BODY" "same as apache_request_headers: true"
}

@test "security.limit_extensions = \".php .php5\": .php5 runs, .txt is denied" {
	fpmd_conf 'security.limit_extensions = ".php .php5"'
	fpmd_start
	nginx_start
	get_ok "$BASE_URL/feat/ext.php5"
	assert_eq "php5 script ran" "$HTTP_BODY"
	assert_body_equals "$BASE_URL/hello.php" "Hello, world!"
	http "$BASE_URL/x.txt"
	assert_eq 403 "$HTTP_STATUS" "status of x.txt"
	assert_eq "Access denied." "$HTTP_BODY"
	wait_log "has been denied"
}

@test "security.limit_extensions default: .php5 is denied" {
	shared
	http "$BASE_URL/feat/ext.php5"
	assert_eq 403 "$HTTP_STATUS"
	assert_eq "Access denied." "$HTTP_BODY"
}

@test "httpoxy: a Proxy header does not become HTTP_PROXY" {
	shared
	get_ok "$BASE_URL/feat/proxy.php" -H 'Proxy: http://evil.example:3128' -H 'X-Other: fine'
	assert_eq "false" "$(body_value 'getenv(HTTP_PROXY)')"
	assert_eq "false" "$(body_value 'SERVER[HTTP_PROXY]')"
	# other headers pass
	assert_eq "'fine'" "$(body_value 'getenv(HTTP_X_OTHER)')"
	assert_eq "'fine'" "$(body_value 'SERVER[HTTP_X_OTHER]')"
}

@test "REQUEST_TIME and REQUEST_TIME_FLOAT are there and close to now" {
	local before after rt rtf now
	shared
	before=$(date +%s)
	get_ok "$BASE_URL/feat/reqtime.php"
	after=$(date +%s)
	rt=$(body_value REQUEST_TIME)
	rtf=$(body_value REQUEST_TIME_FLOAT)
	now=$(body_value now)
	[[ $rt =~ ^[0-9]+$ ]] || fail "REQUEST_TIME is not an integer: $rt"
	[[ $rtf =~ ^[0-9]+\.[0-9]+$ ]] || fail "REQUEST_TIME_FLOAT is not a float: $rtf"
	((rt >= before - 1 && rt <= after + 1)) || fail "REQUEST_TIME $rt not within [$before, $after]"
	assert_eq "$rt" "${rtf%.*}" "REQUEST_TIME is REQUEST_TIME_FLOAT truncated"
	# the request started a moment before the script looked at the clock
	"$PYTHON" -c "import sys; rtf, now = float('$rtf'), float('$now'); sys.exit(0 if 0 <= now - rtf < 2 else 1)" ||
		fail "REQUEST_TIME_FLOAT $rtf vs microtime() $now"
}

# flush_streams [--keepalive]: with fastcgi_buffering off, the first chunk
# reaches the client before the second is written.
flush_streams() {
	local d=$BATS_TEST_TMPDIR t1 t2
	shared "$@"
	curl -sS -N --max-time 30 "$BASE_URL/stream/feat/flush.php" | while IFS= read -r line; do
		printf '%s %s\n' "$(now_ms)" "$line"
	done >"$d/stream.out"
	cat "$d/stream.out" >&2
	t1=$(awk '$2 == "first" { print $1 }' "$d/stream.out")
	t2=$(awk '$2 == "second" { print $1 }' "$d/stream.out")
	[[ -n $t1 && -n $t2 ]] || fail "both chunks expected"
	# the script sleeps 1 s between them
	(((t2 - t1) >= 600)) || fail "the chunks arrived $((t2 - t1)) ms apart: the first was not streamed"
}

@test "flush() streams the output (fastcgi_buffering off)" {
	flush_streams
}

@test "flush() streams the output (nginx keepalive)" {
	flush_streams --keepalive
}

@test "uploads: 3 files land in \$_FILES, their tmp files are gone after the request" {
	local d=$BATS_TEST_TMPDIR f
	shared
	printf 'first file\n' >"$d/a.txt"
	head -c 100000 /dev/urandom >"$d/b.bin"
	: >"$d/c.empty"
	get_ok "$BASE_URL/feat/upload.php?list=$d/tmp.list" \
		-F "a=@$d/a.txt" -F "b=@$d/b.bin" -F "c=@$d/c.empty;filename=c.empty"
	assert_eq 3 "$(body_value count)"
	assert_contains "$HTTP_BODY" "a a.txt 11 0 $(md5sum <"$d/a.txt" | cut -d' ' -f1) true"
	assert_contains "$HTTP_BODY" "b b.bin 100000 0 $(md5sum <"$d/b.bin" | cut -d' ' -f1) true"
	assert_contains "$HTTP_BODY" "c c.empty 0 0 $(md5sum <"$d/c.empty" | cut -d' ' -f1) true"
	# they were in upload_tmp_dir, and are gone now
	while IFS= read -r f; do
		[[ $f == "$SHARED_UPLOAD/php"* ]] || fail "tmp file $f not in upload_tmp_dir"
		[[ ! -e $f ]] || fail "tmp file $f is still there"
	done <"$d/tmp.list"
	assert_eq 3 "$(wc -l <"$d/tmp.list")"
	assert_eq "" "$(ls -A "$SHARED_UPLOAD")" "upload_tmp_dir after the request"
}

# fatal_then_next [--keepalive] SCRIPT LOG_TEXT: SCRIPT ends in a fatal error
# (500, display_errors off), the same worker serves the next request.
fatal_then_next() {
	local ka=()
	if [[ $1 == --keepalive ]]; then
		ka=(--keepalive)
		shift
	fi
	local script=$1 text=$2 pid n
	shared "${ka[@]}"
	get_ok "$BASE_URL/feat/pid.php"
	pid=$HTTP_BODY
	n=$(log_count "$text")
	http "$BASE_URL/$script"
	assert_eq 500 "$HTTP_STATUS" "status of $script"
	assert_not_contains "$HTTP_BODY" "Fatal error"
	wait_until 5 _log_count_above "$n" "$text" || fail "no new log line: $text"
	assert_contains "$(grep -F -- "$text" "$FPMD_LOG" | tail -n 1)" "$pid"
	get_ok "$BASE_URL/feat/pid.php"
	assert_eq "$pid" "$HTTP_BODY" "the same worker serves the next request"
	get_ok "$BASE_URL/hello.php"
	assert_eq "Hello, world!" "$HTTP_BODY"
	run ! grep -F "child $pid exited" "$FPMD_LOG"
}

@test "max_execution_time overrun: 500, the worker serves the next request" {
	fatal_then_next timeout.php "Maximum execution time of 1 second exceeded"
}

@test "max_execution_time overrun: the same through nginx keepalive" {
	fatal_then_next --keepalive timeout.php "Maximum execution time of 1 second exceeded"
}

@test "memory_limit overrun: 500, the worker serves the next request" {
	fatal_then_next memory.php "Allowed memory size of 16777216 bytes exhausted"
}

@test "memory_limit overrun: the same through nginx keepalive" {
	fatal_then_next --keepalive memory.php "Allowed memory size of 16777216 bytes exhausted"
}
