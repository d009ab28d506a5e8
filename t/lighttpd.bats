#!/usr/bin/env bats
# lighttpd (mod_fastcgi) in front of fpmd, through contrib/lighttpd/fpmd.conf.
# Each answer is compared with php-fpm 8.2's behind the same lighttpd config
# (t/websrv.bash); each case also checks that PHP answered, so that two
# identical error pages from lighttpd compare nothing.

load helper
load websrv

setup_file() {
	[[ -x $LIGHTTPD_BIN ]] || return 0
	ws_setup_pair lighttpd
}

teardown_file() {
	ws_teardown
}

setup() {
	require_prog "$LIGHTTPD_BIN" lighttpd
}


@test "lighttpd: \$_SERVER, plain GET" {
	ws_compare '{B}/server.php'
	ws_expect 'SCRIPT_FILENAME='"$WWW_ROOT"'/server.php'
}

@test "lighttpd: every \$_SERVER key" {
	ws_compare '{B}/server.php?all=1' -H 'X-Extra: 1'
	ws_expect 'HTTP_X_EXTRA=1'
}

@test "lighttpd: PATH_INFO and a query" {
	ws_compare '{B}/server.php/extra/path?x=1&y=%2F'
	ws_expect 'PATH_INFO=/extra/path'
}

@test "lighttpd: encoded PATH_INFO" {
	ws_compare '{B}/server.php/a%20b/%C3%A9t%C3%A9'
	ws_expect 'PATH_INFO=/a b/'
}

@test "lighttpd: directory index /sub/" {
	ws_compare '{B}/sub/?q=1'
	ws_expect 'SCRIPT_NAME=/sub/index.php'
}

@test "lighttpd: POST sets CONTENT_TYPE and CONTENT_LENGTH" {
	ws_compare '{B}/server.php' -d 'a=1&b=2'
	ws_expect 'CONTENT_LENGTH=7'
}

@test "lighttpd: Authorization reaches PHP" {
	ws_compare '{B}/server.php?all=1' -u 'user:secret'
	ws_expect 'PHP_AUTH_PW=secret'
}

@test "lighttpd: multipart upload of several files" {
	ws_compare '{B}/upload.php' -F 'field=value' \
		-F "one=@$FILES/small.txt;type=text/plain" \
		-F "two=@$FILES/binary.bin;type=application/octet-stream" \
		-F "three=@$FILES/empty"
	ws_expect "'name' => 'binary.bin'"
}

@test "lighttpd: 1 MB upload" {
	ws_compare '{B}/upload.php' -F "big=@$FILES/1m.bin"
	ws_expect "'size' => 1048576"
}

@test "lighttpd: chunked request body" {
	ws_compare '{B}/input.php' -H 'Transfer-Encoding: chunked' \
		-H 'Content-Type: application/json' --data-binary @"$FILES/data.json"
	ws_expect 'first=27 '
}

@test "lighttpd: Location gives 302" {
	ws_compare '{B}/headers.php?c=location'
	ws_expect 'HTTP/1.1 302 Found'
}

@test "lighttpd: Location after a form POST, and with 301" {
	ws_compare '{B}/headers.php?c=location' -d 'a=1'
	ws_expect 'Location: /hello.php'
	ws_compare '{B}/headers.php?c=location-301'
	ws_expect 'HTTP/1.1 301 Moved Permanently'
}

@test "lighttpd: Status: header and http_response_code()" {
	ws_compare '{B}/headers.php?c=status'
	ws_expect 'HTTP/1.1 404 Not Found'
	ws_compare '{B}/headers.php?c=code-unknown'
	ws_expect 'code=599'
}

@test "lighttpd: cookies and repeated headers" {
	ws_compare '{B}/headers.php?c=cookies'
	ws_expect 'Set-Cookie: d=4; Secure'
	ws_compare '{B}/headers.php?c=multi'
	ws_expect 'X-Replaced: new'
}

# check-local: lighttpd answers for a script that is not there.
@test "lighttpd: a missing script is lighttpd's 404" {
	ws_compare '{B}/missing.php'
	ws_expect '<h1>404 Not Found</h1>'
	ws_compare '{B}/missing.php/a/b'
	ws_expect '<h1>404 Not Found</h1>'
}

@test "lighttpd: 1 MiB of output" {
	ws_compare '{B}/output.php?n=1048576'
	ws_expect '00016383 abcdefgh'
}

@test "lighttpd: fastcgi_finish_request" {
	ws_compare '{B}/finish.php'
	ws_expect 'before'
}

@test "lighttpd: several requests on one connection" {
	ws_compare '{B}/hello.php' '{B}/server.php/p?x=1' '{B}/method.php' \
		-d 'a=1' '{B}/output.php?n=70000' '{B}/hello.php'
	ws_expect 'PATH_INFO=/p'
}

# lighttpd 1.4 reads the script's output to its end when its client has
# gone: the script is never told, under php-fpm as under fpmd.
@test "lighttpd: a client that goes away: the script runs to its end, as under php-fpm" {
	local ref test
	ref=$(client_drop "$REF_URL" ref 'n=300&ms=10&pad=4096' | head -n 2)
	test=$(client_drop "$TEST_URL" test 'n=300&ms=10&pad=4096' | head -n 2)
	assert_eq "$ref" "$test" "php-fpm's summary, then fpmd's"
	assert_eq "shutdown connection_aborted=0 connection_status=0
ran to its end" "$test"
}

@test "lighttpd: the fpmd side was fpmd" {
	local n
	n=$(ctl status --json | json 'd["pools"][0]["accepted_conn"]')
	((n > 20)) || fail "fpmd accepted $n connections"
}
