#!/usr/bin/env bats
# Caddy 2 (php_fastcgi) in front of fpmd, through contrib/caddy/Caddyfile.
# Each answer is compared with php-fpm 8.2's behind the same Caddy config
# (t/websrv.bash); each case also checks that PHP answered, so that two
# identical error pages from Caddy compare nothing.

load helper
load websrv

setup_file() {
	[[ -x $CADDY_BIN ]] || return 0
	ws_setup_pair caddy
}

teardown_file() {
	ws_teardown
}

setup() {
	require_prog "$CADDY_BIN" caddy
}


@test "caddy: \$_SERVER, plain GET" {
	ws_compare '{B}/server.php'
	ws_expect 'SCRIPT_FILENAME='"$WWW_ROOT"'/server.php'
}

@test "caddy: every \$_SERVER key" {
	ws_compare '{B}/server.php?all=1' -H 'X-Extra: 1'
	ws_expect 'HTTP_X_EXTRA=1'
}

@test "caddy: PATH_INFO and a query" {
	ws_compare '{B}/server.php/extra/path?x=1&y=%2F'
	ws_expect 'PATH_INFO=/extra/path'
}

@test "caddy: encoded PATH_INFO" {
	ws_compare '{B}/server.php/a%20b/%C3%A9t%C3%A9'
	ws_expect 'PATH_INFO=/a b/'
}

@test "caddy: directory index /sub/" {
	ws_compare '{B}/sub/?q=1'
	ws_expect 'SCRIPT_NAME=/sub/index.php'
}

@test "caddy: POST sets CONTENT_TYPE and CONTENT_LENGTH" {
	ws_compare '{B}/server.php' -d 'a=1&b=2'
	ws_expect 'CONTENT_LENGTH=7'
}

@test "caddy: Authorization reaches PHP" {
	ws_compare '{B}/server.php?all=1' -u 'user:secret'
	ws_expect 'PHP_AUTH_PW=secret'
}

@test "caddy: multipart upload of several files" {
	ws_compare '{B}/upload.php' -F 'field=value' \
		-F "one=@$FILES/small.txt;type=text/plain" \
		-F "two=@$FILES/binary.bin;type=application/octet-stream" \
		-F "three=@$FILES/empty"
	ws_expect "'name' => 'binary.bin'"
}

@test "caddy: 1 MB upload" {
	ws_compare '{B}/upload.php' -F "big=@$FILES/1m.bin"
	ws_expect "'size' => 1048576"
}

# Caddy 2.6 passes a chunked body on as it comes, with CONTENT_LENGTH=-1.
# fpmd reads such a body to the end of FastCGI's stdin; php-fpm 8.2 does
# not answer at all (Caddy 2.7 buffers the body instead), so this case is
# fpmd's alone.
@test "caddy: chunked request body (CONTENT_LENGTH=-1) is read to its end" {
	http "$TEST_URL/input.php" -H 'Transfer-Encoding: chunked' \
		-H 'Content-Type: application/json' --data-binary @"$FILES/data.json"
	assert_eq 200 "$HTTP_STATUS"
	assert_contains "$HTTP_BODY" "first=27 $(md5sum <"$FILES/data.json" | cut -c 1-32)"
	assert_contains "$HTTP_BODY" "'a' => 1,"
}

@test "caddy: Location gives 302" {
	ws_compare '{B}/headers.php?c=location'
	ws_expect 'HTTP/1.1 302 Found'
}

@test "caddy: Location after a form POST, and with 301" {
	ws_compare '{B}/headers.php?c=location' -d 'a=1'
	ws_expect 'Location: /hello.php'
	ws_compare '{B}/headers.php?c=location-301'
	ws_expect 'HTTP/1.1 301 Moved Permanently'
}

@test "caddy: Status: header and http_response_code()" {
	ws_compare '{B}/headers.php?c=status'
	ws_expect 'HTTP/1.1 404 Not Found'
	ws_compare '{B}/headers.php?c=code-unknown'
	ws_expect 'code=599'
}

@test "caddy: cookies and repeated headers" {
	ws_compare '{B}/headers.php?c=cookies'
	ws_expect 'Set-Cookie: d=4; Secure'
	ws_compare '{B}/headers.php?c=multi'
	ws_expect 'X-Replaced: new'
}

# php_fastcgi passes /missing.php on (fpmd answers), but not a path
# whose script part is missing (Caddy answers).
@test "caddy: a missing script" {
	ws_compare '{B}/missing.php'
	ws_expect 'File not found.'
	ws_compare '{B}/missing.php/a/b'
	ws_expect 'HTTP/1.1 404'
}

@test "caddy: 1 MiB of output" {
	ws_compare '{B}/output.php?n=1048576'
	ws_expect '00016383 abcdefgh'
}

@test "caddy: fastcgi_finish_request" {
	ws_compare '{B}/finish.php'
	ws_expect 'before'
}

@test "caddy: several requests on one connection" {
	ws_compare '{B}/hello.php' '{B}/server.php/p?x=1' '{B}/method.php' \
		-d 'a=1' '{B}/output.php?n=70000' '{B}/hello.php'
	ws_expect 'PATH_INFO=/p'
}

# Caddy closes the FastCGI connection once a write to its gone client
# fails: the script's next write fails in turn.  Big lines fill its
# buffers at once (how soon it notices is its business, not compared).
@test "caddy: a client that goes away ends the script as under php-fpm" {
	local ref test
	ref=$(client_drop "$REF_URL" ref 'n=2000&ms=10&pad=4096' | head -n 2)
	test=$(client_drop "$TEST_URL" test 'n=2000&ms=10&pad=4096' | head -n 2)
	assert_eq "$ref" "$test" "php-fpm's summary, then fpmd's"
	assert_eq "shutdown connection_aborted=1 connection_status=1
stopped before its end" "$test"
}

@test "caddy: the fpmd side was fpmd" {
	local n
	n=$(ctl status --json | json 'd["pools"][0]["accepted_conn"]')
	((n > 20)) || fail "fpmd accepted $n connections"
}
