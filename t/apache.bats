#!/usr/bin/env bats
# Apache httpd 2.4 with mod_proxy_fcgi in front of fpmd, through the
# snippets shipped in contrib/apache/: fpmd.conf (SetHandler, {B}) and
# fpmd-proxypass.conf (ProxyPassMatch, {P}, on a second virtual host).
# Each answer is compared with php-fpm 8.2's behind the same Apache config
# (t/websrv.bash); each case also checks that PHP answered, so that two
# identical error pages from Apache compare nothing.

load helper
load websrv

setup_file() {
	[[ -x $APACHE_BIN ]] || return 0
	ws_setup_pair apache
}

teardown_file() {
	ws_teardown
}

setup() {
	require_prog "$APACHE_BIN" apache2
}

# ------------------------------------------------------------ SetHandler ---

@test "apache SetHandler: \$_SERVER, plain GET" {
	ws_compare '{B}/server.php'
	ws_expect 'SCRIPT_FILENAME='"$WWW_ROOT"'/server.php'
}

@test "apache SetHandler: every \$_SERVER key" {
	ws_compare '{B}/server.php?all=1' -H 'X-Extra: 1'
	ws_expect 'HTTP_X_EXTRA=1'
}

@test "apache SetHandler: PATH_INFO and a query" {
	ws_compare '{B}/server.php/extra/path?x=1&y=%2F'
	ws_expect 'PATH_INFO=/extra/path'
}

@test "apache SetHandler: encoded PATH_INFO" {
	ws_compare '{B}/server.php/a%20b/%C3%A9t%C3%A9'
	ws_expect 'PATH_INFO=/a b/'
}

@test "apache SetHandler: directory index /sub/" {
	ws_compare '{B}/sub/?q=1'
	ws_expect 'SCRIPT_NAME=/sub/index.php'
}

@test "apache SetHandler: POST sets CONTENT_TYPE and CONTENT_LENGTH" {
	ws_compare '{B}/server.php' -d 'a=1&b=2'
	ws_expect 'CONTENT_LENGTH=7'
}

@test "apache SetHandler: Authorization reaches PHP" {
	ws_compare '{B}/server.php?all=1' -u 'user:secret'
	ws_expect 'PHP_AUTH_PW=secret'
}

@test "apache SetHandler: multipart upload of several files" {
	ws_compare '{B}/upload.php' -F 'field=value' \
		-F "one=@$FILES/small.txt;type=text/plain" \
		-F "two=@$FILES/binary.bin;type=application/octet-stream" \
		-F "three=@$FILES/empty"
	ws_expect "'name' => 'binary.bin'"
}

@test "apache SetHandler: 1 MB upload" {
	ws_compare '{B}/upload.php' -F "big=@$FILES/1m.bin"
	ws_expect "'size' => 1048576"
}

@test "apache SetHandler: chunked request body" {
	ws_compare '{B}/input.php' -H 'Transfer-Encoding: chunked' \
		-H 'Content-Type: application/json' --data-binary @"$FILES/data.json"
	ws_expect 'first=27 '
}

@test "apache SetHandler: Location gives 302" {
	ws_compare '{B}/headers.php?c=location'
	ws_expect 'HTTP/1.1 302 Found'
}

@test "apache SetHandler: Location after a form POST, and with 301" {
	ws_compare '{B}/headers.php?c=location' -d 'a=1'
	ws_expect 'Location: /hello.php'
	ws_compare '{B}/headers.php?c=location-301'
	ws_expect 'HTTP/1.1 301 Moved Permanently'
}

@test "apache SetHandler: Status: header and http_response_code()" {
	ws_compare '{B}/headers.php?c=status'
	ws_expect 'HTTP/1.1 404 Not Found'
	ws_compare '{B}/headers.php?c=code-unknown'
	ws_expect 'code=599'
}

@test "apache SetHandler: cookies and repeated headers" {
	ws_compare '{B}/headers.php?c=cookies'
	ws_expect 'Set-Cookie: d=4; Secure'
	ws_compare '{B}/headers.php?c=multi'
	ws_expect 'X-Replaced: new'
}

# Apache hands a .php URL to fpmd whether or not the file is there.
@test "apache SetHandler: a missing script is fpmd's 404 File not found." {
	ws_compare '{B}/missing.php'
	ws_expect 'File not found.'
	ws_compare '{B}/missing.php/a/b'
	ws_expect 'File not found.'
}

@test "apache SetHandler: 1 MiB of output" {
	ws_compare '{B}/output.php?n=1048576'
	ws_expect '00016383 abcdefgh'
}

@test "apache SetHandler: fastcgi_finish_request" {
	ws_compare '{B}/finish.php'
	ws_expect 'before'
}

@test "apache SetHandler: several requests on one connection" {
	ws_compare '{B}/hello.php' '{B}/server.php/p?x=1' '{B}/method.php' \
		-d 'a=1' '{B}/output.php?n=70000' '{B}/hello.php'
	ws_expect 'PATH_INFO=/p'
}

# ------------------------------------------------------- ProxyPassMatch ---

@test "apache ProxyPassMatch: \$_SERVER, plain GET" {
	ws_compare '{P}/server.php'
	ws_expect 'SCRIPT_FILENAME='"$WWW_ROOT"'/server.php'
}

@test "apache ProxyPassMatch: every \$_SERVER key" {
	ws_compare '{P}/server.php?all=1'
	ws_expect 'SCRIPT_NAME=/server.php'
}

@test "apache ProxyPassMatch: PATH_INFO from proxy:fcgi:// SCRIPT_FILENAME" {
	ws_compare '{P}/server.php/extra/path?x=1'
	ws_expect 'PATH_INFO=/extra/path'
	ws_expect 'PHP_SELF=/server.php/extra/path'
}

@test "apache ProxyPassMatch: upload and POST" {
	ws_compare '{P}/upload.php' -F "one=@$FILES/small.txt"
	ws_expect "'name' => 'small.txt'"
	ws_compare '{P}/method.php?g=1' -d 'a=1&b=%20two'
	ws_expect 'CONTENT_TYPE=application/x-www-form-urlencoded'
}

@test "apache ProxyPassMatch: Location gives 302" {
	ws_compare '{P}/headers.php?c=location'
	ws_expect 'HTTP/1.1 302 Found'
}

@test "apache ProxyPassMatch: a missing script is fpmd's 404 File not found." {
	ws_compare '{P}/missing.php'
	ws_expect 'File not found.'
	ws_compare '{P}/missing.php/a/b'
	ws_expect 'File not found.'
}

# Apache closes the FastCGI connection once a write to its gone client
# fails: the script's next write fails in turn.  Big lines fill its
# buffers at once (how soon it notices is its business, not compared).
@test "apache: a client that goes away ends the script as under php-fpm" {
	local ref test
	ref=$(client_drop "$REF_URL" ref 'n=2000&ms=10&pad=4096' | head -n 2)
	test=$(client_drop "$TEST_URL" test 'n=2000&ms=10&pad=4096' | head -n 2)
	assert_eq "$ref" "$test" "php-fpm's summary, then fpmd's"
	assert_eq "shutdown connection_aborted=1 connection_status=1
stopped before its end" "$test"
}

@test "apache: the fpmd side was fpmd" {
	local n
	n=$(ctl status --json | json 'd["pools"][0]["accepted_conn"]')
	((n > 20)) || fail "fpmd accepted $n connections"
}
