#!/usr/bin/env bats
# php-fpm compatibility: the same request to php-fpm8.2 and to fpmd, each
# behind its own nginx made from the same template, with the same document
# root (t/data/www) and the same pool settings; the two responses (curl -i:
# status line, headers, body) must be equal byte for byte once what
# legitimately differs is normalised (see normalise()).
#
# COMPAT_SELFTEST=1 bats t/compat.bats puts php-fpm on both sides: it proves
# the harness and the cases, whatever the state of fpmd.

load helper

REF_NAME=php-fpm
if [[ -n ${COMPAT_SELFTEST:-} ]]; then
	TEST_NAME=php-fpm-selftest
else
	TEST_NAME=fpmd
fi

setup_file() {
	local d=$BATS_FILE_TMPDIR
	mkdir -p "$d/sessions" "$d/upload" "$d/files"

	# The same settings for both, each in its own syntax.
	local -a fpm_pool=(
		"php_value[memory_limit] = 96M"
		"php_admin_value[session.save_path] = $d/sessions"
		"php_admin_value[upload_tmp_dir] = $d/upload"
	)
	local -a fpmd_pool=(
		'php_value { memory_limit = "96M" }'
		'php_admin_value {'
		"    session.save_path = \"$d/sessions\""
		"    upload_tmp_dir = \"$d/upload\""
		'}'
	)

	_make_files "$d/files"

	phpfpm_start -n "$REF_NAME" "${fpm_pool[@]}"
	nginx_start -n nginx-ref "$PHPFPM_SOCK"
	export REF_URL=$BASE_URL REF_PORT=$NGINX_PORT REF_SOCK=$PHPFPM_SOCK
	nginx_start --keepalive -n nginx-ref-ka "$PHPFPM_SOCK"
	export REF_KA_URL=$BASE_URL REF_KA_PORT=$NGINX_PORT

	local sock
	if [[ -n ${COMPAT_SELFTEST:-} ]]; then
		phpfpm_start -n "$TEST_NAME" "${fpm_pool[@]}"
		sock=$PHPFPM_SOCK
	else
		fpmd_conf "${fpmd_pool[@]}"
		fpmd_start
		sock=$FPMD_SOCK
	fi
	nginx_start -n nginx-test "$sock"
	export TEST_URL=$BASE_URL TEST_PORT=$NGINX_PORT TEST_SOCK=$sock
	nginx_start --keepalive -n nginx-test-ka "$sock"
	export TEST_KA_URL=$BASE_URL TEST_KA_PORT=$NGINX_PORT
	export REF_SOCK=${_PHPFPM_DIR[$REF_NAME]}/www.sock TEST_SOCK=$sock
	export FILES=$d/files
}

teardown_file() {
	teardown_stack
}

# Request bodies and upload files, the same for both sides.
_make_files() {
	local f=$1 i
	printf 'hello upload\n' >"$f/small.txt"
	printf '{"a":1,"b":[true,null,"x"],"c":{"d":"\\u00e9"}}' >"$f/data.json"
	for ((i = 0; i < 256; i++)); do
		# shellcheck disable=SC2059
		printf "\\x$(printf %02x "$i")"
	done >"$f/binary.bin"
	: >"$f/empty"
	_pattern_file "$f/1m.bin" $((1024 * 1024))
	_pattern_file "$f/3m.bin" $((3 * 1024 * 1024))
	_pattern_file "$f/9m.bin" $((9 * 1024 * 1024))
	# The 1 MB urlencoded body: many fields.
	{
		for ((i = 0; i < 16384; i++)); do
			printf 'k%05d=%058d&' "$i" "$i"
		done
	} | head -c $((1024 * 1024)) >"$f/1m.urlencoded"
}

_pattern_file() {
	yes 'fpmd compat pattern line 0123456789 abcdefghijklmnopqrstuvwxyz' |
		head -c "$2" >"$1"
}

# normalise PORTS...: stdin to stdout with what may differ between two
# servers answering the same request replaced by fixed text.
normalise() {
	local ports
	ports=$(IFS='|'; echo "$*")
	sed -E \
		-e 's/^Date: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT/Date: DATE/' \
		-e "s/:($ports)([^0-9]|\$)/:PORT\\2/g" \
		-e "s/^SERVER_PORT=($ports)\$/SERVER_PORT=PORT/" \
		-e 's/PHPSESSID=[A-Za-z0-9,-]+/PHPSESSID=SESSID/g' \
		-e 's#/php[A-Za-z0-9]{6}([^A-Za-z0-9]|$)#/phpXXXXXX\1#g' \
		-e 's/boundary=-*[A-Za-z0-9]+/boundary=BOUNDARY/g' \
		-e 's/^(-+)[0-9a-f]{16,}(--)?(\r?)$/\1BOUNDARY\2\3/'
}

# _curl BASE KA_BASE OUT CURL_ARGS...: one curl -i, {B} and {K} in the
# arguments replaced by the side's base URLs (plain, keepalive). A curl
# failure is written into OUT, so that it is compared too.
_curl() {
	local base=$1 ka=$2 out=$3 a rc=0
	shift 3
	local -a args=()
	for a in "$@"; do
		a=${a//\{B\}/$base}
		args+=("${a//\{K\}/$ka}")
	done
	curl -sS -i --max-time 60 -H 'Expect:' "${args[@]}" >"$out" 2>"$out.err" || rc=$?
	if ((rc)); then
		printf '\n[curl exit status %s: %s]\n' "$rc" "$(tr '\n' ' ' <"$out.err")" >>"$out"
	fi
	return 0
}

# _no_nginx_error SIDE RAW NGINX_NAMES...: fail if a response in RAW is an
# error page that nginx made itself (a 4xx or 5xx with nginx's signature,
# e.g. 502 when the response header did not fit its buffer): the two sides
# would then agree on nginx's page and the comparison would say nothing
# about the servers under test.
_no_nginx_error() {
	local side=$1 raw=$2 name pages
	shift 2
	pages=$(tr -d '\r' <"$raw" | grep -oE '<title>[45][0-9][0-9] [^<]*</title>' |
		sed -E 's#</?title>##g' | sort -u | tr '\n' ' ')
	[[ -n $pages ]] || return 0
	grep -q '<hr><center>nginx' "$raw" || return 0
	echo "$side: nginx answered with its own error page ($pages), so this case compares nothing" >&2
	for name in "$@"; do
		echo "---- $name error.log, last lines ----" >&2
		grep -E '\[(error|crit|alert)\]' "$BATS_FILE_TMPDIR/$name/error.log" | tail -n 5 >&2
	done
	return 1
}

# compare_with FUNC [ARGS...]: run FUNC BASE KA_BASE OUT ARGS... for both
# sides (at the same time), normalise, compare; a unified diff on mismatch.
compare_with() {
	local fn=$1 d=$BATS_TEST_TMPDIR rc=0
	shift
	"$fn" "$REF_URL" "$REF_KA_URL" "$d/ref.raw" "$@" &
	local p1=$!
	"$fn" "$TEST_URL" "$TEST_KA_URL" "$d/test.raw" "$@" &
	local p2=$!
	wait "$p1" || rc=$?
	wait "$p2" || rc=$?
	((rc == 0)) || { echo "request function $fn failed" >&2; return 1; }
	_no_nginx_error "$REF_NAME" "$d/ref.raw" nginx-ref nginx-ref-ka || return 1
	_no_nginx_error "$TEST_NAME" "$d/test.raw" nginx-test nginx-test-ka || return 1
	normalise "$REF_PORT" "$REF_KA_PORT" <"$d/ref.raw" >"$d/ref.out"
	normalise "$TEST_PORT" "$TEST_KA_PORT" <"$d/test.raw" >"$d/test.out"
	cmp -s "$d/ref.out" "$d/test.out" && return 0

	echo "responses differ ($REF_NAME vs $TEST_NAME), request: $fn $*" >&2
	local diff
	diff=$(diff -u --label "$REF_NAME" --label "$TEST_NAME" \
		<(tr -d '\r' <"$d/ref.out") <(tr -d '\r' <"$d/test.out")) || true
	if [[ -z $diff ]]; then
		# Only the line ends differ: show them.
		diff=$(diff -u --label "$REF_NAME" --label "$TEST_NAME" \
			<(cat -A "$d/ref.out") <(cat -A "$d/test.out")) || true
	fi
	printf '%s\n' "$diff" | head -n 150 | cut -c 1-300 >&2
	echo "($(wc -c <"$d/ref.out") vs $(wc -c <"$d/test.out") bytes; the full responses are $d/{ref,test}.out, kept by bats --no-tempdir-cleanup)" >&2
	return 1
}

# compare CURL_ARGS...: the same curl request to both; {B} = base URL.
compare() {
	compare_with _curl "$@"
}

# ------------------------------------------------------------ $_SERVER ---

@test "server vars: plain GET" {
	compare '{B}/server.php'
}

@test "server vars: query string" {
	compare '{B}/server.php?a=1&b=two%20words&c[]=x&c[]=y&empty=&flag'
}

@test "server vars: PATH_INFO" {
	compare '{B}/server.php/extra/path'
}

@test "server vars: PATH_INFO and query string" {
	compare '{B}/server.php/extra/path/?x=1&y=%2F'
}

@test "server vars: encoded PATH_INFO" {
	compare '{B}/server.php/a%20b/%C3%A9t%C3%A9'
}

@test "server vars: trailing slash after script" {
	compare '{B}/server.php/'
}

@test "server vars: request headers become HTTP_*" {
	compare '{B}/server.php' -A 'compat-agent/1.0' \
		-H 'X-Custom-Header: some value' -H 'Accept-Language: fr, en;q=0.5' \
		-H 'X-Empty;' -H 'Cookie: a=1; b=2' -H 'X-Dup: 1' -H 'X-Dup: 2' \
		-e 'http://example.test/from'
}

@test "server vars: POST sets CONTENT_TYPE and CONTENT_LENGTH" {
	compare '{B}/server.php' -d 'a=1&b=2'
}

@test "server vars: every key" {
	compare '{B}/server.php?all=1' -H 'X-Extra: 1'
}

@test "server vars: getenv() without a name, and \$_ENV" {
	compare '{B}/getenv.php?x=1' -H 'X-Extra: 1'
}

@test "server vars: httpoxy, a Proxy header is not HTTP_PROXY" {
	compare '{B}/server.php' -H 'Proxy: http://evil.example:3128'
}

@test "server vars: directory index /sub/" {
	compare '{B}/sub/?q=1'
}

@test "server vars: double slash and dot segments" {
	compare --path-as-is '{B}//sub/../server.php?z=1'
}

# ------------------------------------------------------------- methods ---

@test "method: GET with query" {
	compare '{B}/method.php?a=1'
}

@test "method: POST urlencoded" {
	compare '{B}/method.php?g=1' -d 'a=1&b=%20two&c[x]=y'
}

@test "method: PUT with a body" {
	compare '{B}/method.php' -X PUT -H 'Content-Type: text/plain' --data-binary @"$FILES/small.txt"
}

@test "method: DELETE" {
	compare '{B}/method.php?id=7' -X DELETE
}

@test "method: HEAD" {
	compare '{B}/method.php' -I
}

@test "method: HEAD of a script with a big body" {
	compare '{B}/output.php?n=100000' -I
}

@test "method: OPTIONS" {
	compare '{B}/method.php' -X OPTIONS
}

@test "method: PATCH with JSON" {
	compare '{B}/method.php' -X PATCH -H 'Content-Type: application/json' \
		--data-binary @"$FILES/data.json"
}

# -------------------------------------------------------------- bodies ---

@test "body: urlencoded with arrays, cookies, \$_REQUEST" {
	compare '{B}/post.php?q=get&both=g' -b 'c1=v1; both=c' \
		-d 'a[]=1&a[]=2&b[k]=v&b[k2][]=w&both=p&sp=a+b%2Bc'
}

@test "body: multipart, fields and several files" {
	compare '{B}/upload.php' -F 'field=value' -F 'other=x y' \
		-F "one=@$FILES/small.txt;type=text/plain" \
		-F "two=@$FILES/binary.bin;type=application/octet-stream" \
		-F "three=@$FILES/data.json;filename=renamed.json"
}

@test "body: multipart, file arrays" {
	compare '{B}/upload.php' -F "f[]=@$FILES/small.txt" -F "f[]=@$FILES/data.json" \
		-F "g[a][b]=@$FILES/binary.bin"
}

@test "body: multipart, empty file and no file" {
	compare '{B}/upload.php' -F "empty=@$FILES/empty" -F "none=@$FILES/empty;filename="
}

@test "body: JSON read twice from php://input" {
	compare '{B}/input.php' -H 'Content-Type: application/json' --data-binary @"$FILES/data.json"
}

@test "body: empty POST" {
	compare '{B}/method.php' -X POST -H 'Content-Length: 0'
}

@test "body: empty urlencoded POST" {
	compare '{B}/method.php' -d ''
}

@test "body: 1 MB raw" {
	compare '{B}/input.php' -H 'Content-Type: application/octet-stream' --data-binary @"$FILES/1m.bin"
}

@test "body: 1 MB urlencoded" {
	compare '{B}/method.php' --data-binary @"$FILES/1m.urlencoded"
}

@test "body: 1 MB file upload" {
	compare '{B}/upload.php' -F "big=@$FILES/1m.bin"
}

@test "body: file over upload_max_filesize" {
	compare '{B}/upload.php' -F 'f=before' -F "big=@$FILES/3m.bin" -F "small=@$FILES/small.txt"
}

@test "body: over post_max_size" {
	compare '{B}/upload.php' -F "huge=@$FILES/9m.bin"
}

@test "body: chunked request body" {
	compare '{B}/input.php' -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json' \
		--data-binary @"$FILES/data.json"
}

# ------------------------------------------------------------- headers ---

@test "headers: default content type" {
	compare '{B}/hello.php'
}

@test "headers: header()" {
	compare '{B}/headers.php?c=custom'
}

@test "headers: repeated and replaced" {
	compare '{B}/headers.php?c=multi'
}

@test "headers: several Set-Cookie" {
	compare '{B}/headers.php?c=cookies'
}

@test "headers: header_remove(name)" {
	compare '{B}/headers.php?c=remove'
}

@test "headers: header_remove()" {
	compare '{B}/headers.php?c=remove-all'
}

@test "headers: Location gives 302" {
	compare '{B}/headers.php?c=location'
}

@test "headers: Location after a form POST gives 302, not 303" {
	compare '{B}/headers.php?c=location' -d 'name=value'
}

@test "headers: Location after a PUT gives 302" {
	compare '{B}/headers.php?c=location' -X PUT -d 'x'
}

@test "headers: Location with 301" {
	compare '{B}/headers.php?c=location-301'
}

@test "headers: Location keeps 201" {
	compare '{B}/headers.php?c=location-201'
}

@test "headers: Status: header" {
	compare '{B}/headers.php?c=status'
}

@test "headers: Status: with a custom reason" {
	compare '{B}/headers.php?c=status-custom'
}

@test "headers: HTTP/1.1 418 line" {
	compare '{B}/headers.php?c=http-line'
}

@test "headers: http_response_code(404)" {
	compare '{B}/headers.php?c=code'
}

@test "headers: http_response_code(599)" {
	compare '{B}/headers.php?c=code-unknown'
}

@test "headers: 204 No Content" {
	compare '{B}/headers.php?c=no-content'
}

@test "headers: 304 Not Modified" {
	compare '{B}/headers.php?c=not-modified'
}

@test "headers: Content-Type set" {
	compare '{B}/headers.php?c=ctype'
}

@test "headers: default_charset" {
	compare '{B}/headers.php?c=charset'
}

@test "headers: a 3000-byte header" {
	compare '{B}/headers.php?c=long'
}

@test "headers: one 6000-byte header (past nginx's default 4 KB buffer)" {
	compare '{B}/bigheaders.php?one=6000'
}

@test "headers: 40 KB of response headers" {
	compare '{B}/bigheaders.php?many=400'
}

@test "headers: 150 Set-Cookie headers" {
	compare '{B}/bigheaders.php?cookies=150'
}

@test "headers: 30 KB of request headers become HTTP_*" {
	local big
	big=$(head -c 30000 /dev/zero | tr '\0' 'r')
	compare '{B}/server.php' -H "X-Big: $big" -b "big=${big:0:4000}"
}

@test "headers: headers_list()" {
	compare '{B}/headers.php?c=list'
}

# -------------------------------------------------------------- output ---

@test "output: 0 bytes" {
	compare '{B}/output.php?n=0'
}

@test "output: 1 byte" {
	compare '{B}/output.php?n=1'
}

@test "output: 64 KiB - 1" {
	compare '{B}/output.php?n=65535'
}

@test "output: 64 KiB" {
	compare '{B}/output.php?n=65536'
}

@test "output: 64 KiB + 1" {
	compare '{B}/output.php?n=65537'
}

@test "output: 1 MiB" {
	compare '{B}/output.php?n=1048576'
}

@test "output: 10 MiB" {
	compare '{B}/output.php?n=10485760'
}

@test "output: flushed in pieces" {
	compare '{B}/stream.php'
}

# -------------------------------------------------------------- errors ---

@test "error: fatal error gives 500" {
	compare '{B}/fatal.php'
}

@test "error: fatal error displayed" {
	compare '{B}/fatal_display.php'
}

@test "error: fatal error after output was flushed" {
	compare '{B}/late_fatal.php'
}

@test "error: uncaught exception" {
	compare '{B}/exception.php'
}

@test "error: uncaught exception displayed" {
	compare '{B}/exception_display.php'
}

@test "error: warning displayed" {
	compare '{B}/warning.php'
}

@test "error: memory_limit exceeded" {
	compare '{B}/memory.php'
}

@test "error: exit(3)" {
	compare '{B}/exit.php'
}

@test "error: max_execution_time" {
	compare '{B}/timeout.php'
}

@test "error: parse error" {
	compare '{B}/syntax.php'
}

# ------------------------------------------------------------- routing ---

@test "routing: missing script is 404 File not found." {
	compare '{B}/no-such-script.php'
}

@test "routing: missing script with PATH_INFO" {
	compare '{B}/no-such-script.php/x/y?z=1'
}

@test "routing: non-.php script is 403 Access denied." {
	compare '{B}/x.txt'
}

@test "routing: missing non-.php script" {
	compare '{B}/missing.txt'
}

# ---------------------------------------------------- Apache proxy:fcgi ---

# _fcgi_args BASE KA_BASE OUT CLIENT_ARGS...: one request straight to the
# side's FastCGI socket (t/fcgi-client: the params are exactly those
# given); the client's record lines are left out, the framing may differ.
# (Not _fcgi: the one below, which takes bare params, would replace it.)
# A client that refused its arguments fails the case, which would
# otherwise compare two equal usage messages.
_fcgi_args() {
	local sock=$TEST_SOCK out=$3
	[[ $1 == "$REF_URL" ]] && sock=$REF_SOCK
	shift 3
	"$FPMD_BUILDDIR/t/fcgi-client" -t 10 -b "$@" "$sock" request >"$out.raw" 2>&1 || true
	if grep -q '^fcgi-client: ' "$out.raw"; then
		cat "$out.raw" >&2
		return 1
	fi
	grep -Ev '^STDOUT [0-9]+ bytes$' "$out.raw" >"$out" || true
}

# apache URL [SCHEME] [CLIENT_ARGS...]: the params Apache's mod_proxy_fcgi
# sends for URL with "ProxyPassMatch ^/(.*\.php(/.*)?)$
# fcgi://127.0.0.1:9000/DOCROOT/$1": SCRIPT_FILENAME is a proxy: URL with
# the path info (and a query, after a RewriteRule) in it; no PATH_INFO.
apache() {
	local url=$1 scheme=${2:-fcgi://127.0.0.1:9000} path query=
	(($# > 2)) && shift 2 || shift $#
	path=${url%%\?*}
	[[ $url == *\?* ]] && query=${url#*\?}
	compare_with _fcgi_args -p REQUEST_METHOD=GET -p "DOCUMENT_ROOT=$WWW_ROOT" \
		-p "SCRIPT_NAME=$path" -p "REQUEST_URI=$url" \
		-p "QUERY_STRING=$query" -p SERVER_PROTOCOL=HTTP/1.1 \
		-p "SCRIPT_FILENAME=proxy:$scheme$WWW_ROOT$url" "$@"
}

@test "apache proxy: a script" {
	apache /server.php
}

@test "apache proxy: a script with path info" {
	apache /server.php/a/b
}

@test "apache proxy: path info and a query in SCRIPT_FILENAME" {
	apache '/server.php/a/b?x=1&y=2'
}

@test "apache proxy: balancer://" {
	apache /server.php/p balancer://mycluster
}

@test "apache proxy: with PATH_INFO set (proxy-fcgi-pathinfo)" {
	apache /server.php/a/b fcgi://127.0.0.1:9000 -p PATH_INFO=/a/b
}

@test "apache proxy: a missing script" {
	apache /missing.php/a
}

# ------------------------------------------------------------- sessions ---

# Two requests: the first starts a session, the second sends its cookie back.
_session_pair() {
	local base=$1 ka=$2 out=$3 cookie
	_curl "$base" "$ka" "$out.1" '{B}/session.php'
	cookie=$(grep -io 'PHPSESSID=[A-Za-z0-9,-]*' "$out.1" | head -n 1)
	_curl "$base" "$ka" "$out.2" '{B}/session.php' -H "Cookie: $cookie"
	cat "$out.1" "$out.2" >"$out"
}

@test "session: session_start sets a cookie" {
	compare '{B}/session.php'
}

@test "session: the cookie brings the data back" {
	compare_with _session_pair
}

# ------------------------------------------------------- Apache's params ---

# _fcgi BASE KA_BASE OUT PARAMS...: one FastCGI GET straight to the side's
# socket (no nginx) with exactly PARAMS, as Apache's mod_proxy_fcgi sends
# them; OUT gets the body and the END_REQUEST line. The client's lines for
# the STDOUT records are left out: how the output is cut into records (and
# whether an empty one closes the stream, which fpmd sends and php-fpm
# does not) is the transport's business, t/protocol.bats's.
_fcgi() {
	local base=$1 out=$3 sock=$REF_SOCK a
	shift 3
	[[ $base == "$TEST_URL" ]] && sock=$TEST_SOCK
	local -a args=()
	for a in "$@"; do
		args+=(-p "$a")
	done
	"$FPMD_BUILDDIR/t/fcgi-client" -t 10 -b "${args[@]}" "$sock" 2>&1 |
		grep -vE '^STDOUT [0-9]+ bytes$' >"$out" || true
}

# What mod_proxy_fcgi sends for "ProxyPassMatch ^/(.*\.php(/.*)?)$
# fcgi://127.0.0.1:9000/DOCROOT/$1" (its default, no SetHandler).
_apache_params() {
	local base=$1 ka=$2 out=$3
	_fcgi "$base" "$ka" "$out" \
		"SCRIPT_FILENAME=proxy:fcgi://127.0.0.1:9000$WWW_ROOT/server.php/extra/path" \
		'SCRIPT_NAME=/server.php' 'PATH_INFO=/extra/path' \
		'REQUEST_URI=/server.php/extra/path?a=1' 'QUERY_STRING=a=1' \
		'REQUEST_METHOD=GET' "DOCUMENT_ROOT=$WWW_ROOT" 'SERVER_PROTOCOL=HTTP/1.1' \
		'GATEWAY_INTERFACE=CGI/1.1' 'SERVER_SOFTWARE=Apache/2.4.57 (Debian)' \
		'SERVER_NAME=localhost' 'SERVER_PORT=80' 'REMOTE_ADDR=127.0.0.1' \
		'HTTP_HOST=localhost'
}

@test "Apache mod_proxy_fcgi: SCRIPT_FILENAME proxy:fcgi://HOST:PORT/PATH/PATH_INFO" {
	compare_with _apache_params
}

_apache_balancer() {
	local base=$1 ka=$2 out=$3
	_fcgi "$base" "$ka" "$out" \
		"SCRIPT_FILENAME=proxy:balancer://php$WWW_ROOT/server.php" \
		'SCRIPT_NAME=/server.php' 'REQUEST_URI=/server.php?b=2' 'QUERY_STRING=b=2' \
		'REQUEST_METHOD=GET' "DOCUMENT_ROOT=$WWW_ROOT" 'SERVER_PROTOCOL=HTTP/1.1' \
		'GATEWAY_INTERFACE=CGI/1.1' 'HTTP_HOST=localhost'
}

@test "Apache mod_proxy_fcgi: SCRIPT_FILENAME proxy:balancer://NAME/PATH" {
	compare_with _apache_balancer
}

_apache_no_path_info() {
	local base=$1 ka=$2 out=$3
	_fcgi "$base" "$ka" "$out" \
		"SCRIPT_FILENAME=proxy:fcgi://localhost$WWW_ROOT/server.php?c=3" \
		'SCRIPT_NAME=/server.php' 'REQUEST_URI=/server.php?c=3' 'QUERY_STRING=c=3' \
		'REQUEST_METHOD=GET' "DOCUMENT_ROOT=$WWW_ROOT" 'SERVER_PROTOCOL=HTTP/1.1' \
		'GATEWAY_INTERFACE=CGI/1.1' 'HTTP_HOST=localhost'
}

@test "Apache mod_proxy_fcgi: proxy:fcgi:// with a query string and no PATH_INFO" {
	compare_with _apache_no_path_info
}

# ----------------------------------------------------------------- misc ---

@test "misc: getallheaders" {
	compare '{B}/getallheaders.php' -A 'compat-agent/1.0' -H 'X-One: 1' \
		-H 'x-lower-case: 2' -H 'Content-Type: text/plain' -d 'body'
}

@test "misc: fastcgi_finish_request" {
	compare '{B}/finish.php'
}

# _finish_then BASE KA_BASE OUT MODE [CURL_ARGS...]: feat/finish_after.php
# writes MODE's output after fastcgi_finish_request(); the response, then
# what the script did after finishing (its end, its shutdown function).
_finish_then() {
	local base=$1 ka=$2 out=$3 mode=$4
	shift 4
	_curl "$base" "$ka" "$out.http" "{B}/feat/finish_after.php?m=$mode&f=$out.done" "$@"
	wait_until 10 grep -q 'shutdown function ran' "$out.done" || true
	sed -E 's/f=[^ &]*/f=FILE/' "$out.http" >"$out"
	cat "$out.done" >>"$out" 2>/dev/null || echo '[nothing after finishing]' >>"$out"
}

@test "misc: fastcgi_finish_request, then echo" {
	compare_with _finish_then echo
}

@test "misc: fastcgi_finish_request, then print and var_dump" {
	compare_with _finish_then print
	compare_with _finish_then var_dump
}

@test "misc: fastcgi_finish_request with an output buffer open" {
	compare_with _finish_then ob -G -d ob=1
}

# The response, then whether the script ran on after it.
_finish_work() {
	local base=$1 ka=$2 out=$3
	_curl "$base" "$ka" "$out.1" "{B}/finish_work.php?mark=$out.mark"
	wait_until 10 test -s "$out.mark" || true
	{
		cat "$out.1"
		printf '[after the response: %s]\n' \
			"$(cat "$out.mark" 2>/dev/null || echo 'the script did not run to its end')"
	} >"$out"
}

@test "misc: output after fastcgi_finish_request is discarded, the script runs to its end" {
	compare_with _finish_work
}

@test "misc: effective ini settings and extensions" {
	compare '{B}/ini.php'
}

@test "keepalive: several requests on one connection" {
	compare '{K}/hello.php' '{K}/server.php/p?x=1' '{K}/method.php' -d 'a=1' \
		'{K}/output.php?n=70000' '{K}/hello.php'
}

@test "keepalive: after an error, exit and fastcgi_finish_request" {
	compare '{K}/fatal.php' '{K}/hello.php' '{K}/exit.php' '{K}/finish.php' \
		'{K}/no-such-script.php' '{K}/x.txt' '{K}/hello.php'
}

@test "keepalive: uploads then a plain request" {
	compare '{K}/upload.php' -F "one=@$FILES/small.txt" '{K}/hello.php'
}
