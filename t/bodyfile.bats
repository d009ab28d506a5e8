#!/usr/bin/env bats
# Accelerated upload: nginx writes the request body to a file
# (client_body_in_file_only), sends no body (fastcgi_pass_request_body
# off) and names the file in the REQUEST_BODY_FILE param; PHP reads the
# body from there, for $_POST, $_FILES and php://input.  Each case goes
# through nginx to php-fpm 8.2 and to fpmd, with the same pool settings,
# and the answers must be the same; then fpmd's alone is checked too.

load helper

# NGINX_EXTRA: server-level nginx text added before the .php location (so
# its regex locations win); @PASS@ is the fastcgi_pass target.  A wrapper
# around helper.bash's template, as in t/sapi.bats.
eval "$(declare -f _nginx_conf | sed '1s/^_nginx_conf /_nginx_conf_base /')"
_nginx_conf() {
	local sock=$3 extra
	extra=${NGINX_EXTRA//@PASS@/unix:$sock}
	_nginx_conf_base "$@" |
		EXTRA=$extra awk '{ print } /^ *index index\.php/ { print ENVIRON["EXTRA"] }'
}

# shellcheck disable=SC2016 # nginx variables
# /bf/SCRIPT: the body in a file nginx names; /missing/SCRIPT: a body file
# that is not there.
NGINX_EXTRA='
        location ~ ^/bf(/.+\.php)$ {
            client_body_in_file_only clean;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$1;
            fastcgi_param REQUEST_BODY_FILE $request_body_file;
            fastcgi_pass_request_body off;
            fastcgi_pass @PASS@;
        }
        location ~ ^/missing(/.+\.php)$ {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$1;
            fastcgi_param REQUEST_BODY_FILE /nonexistent/fpmd-test-body;
            fastcgi_pass_request_body off;
            fastcgi_pass @PASS@;
        }
'

setup_file() {
	local d=$BATS_FILE_TMPDIR f i
	mkdir -p "$d/upload" "$d/files"
	f=$d/files
	printf 'hello upload\n' >"$f/small.txt"
	printf '{"a":1,"b":[true,null,"x"]}' >"$f/data.json"
	for ((i = 0; i < 256; i++)); do
		# shellcheck disable=SC2059
		printf "\\x$(printf %02x "$i")"
	done >"$f/binary.bin"
	yes 'fpmd body file pattern line 0123456789' | head -c 1048576 >"$f/1m.bin"
	export FILES=$f

	phpfpm_start -n ref "php_admin_value[upload_tmp_dir] = $d/upload"
	nginx_start -n nginx-ref "$PHPFPM_SOCK"
	export REF_URL=$BASE_URL REF_LOG=$PHPFPM_LOG \
		REF_NGINX_LOG=$d/nginx-ref/error.log

	fpmd_conf "php_admin_value { upload_tmp_dir = \"$d/upload\" }"
	fpmd_start
	export SHARED_LOG=$FPMD_LOG
	nginx_start -n nginx-test "$FPMD_SOCK"
	export TEST_URL=$BASE_URL TEST_NGINX_LOG=$d/nginx-test/error.log
}

teardown_file() {
	teardown_stack
}

# what a test started of its own
teardown() {
	teardown_stack
}

# get URL CURL_ARGS...: status line, Content-Type and body of one
# request, with the upload temp names made alike.
get() {
	local url=$1 d
	shift
	d=$(t_tmp)
	curl -sS --max-time "$CURL_TIMEOUT" -H 'Expect:' -D "$d/get.h" \
		-o "$d/get.b" "$@" "$url" || { echo "curl $url failed" >&2; return 1; }
	tr -d '\r' <"$d/get.h" | grep -iE '^(HTTP/|Content-Type:)'
	sed -E 's#/php[A-Za-z0-9]{6}([^A-Za-z0-9]|$)#/phpXXXXXX\1#g' "$d/get.b"
}

# same PATH CURL_ARGS...: both sides answer alike; OUT is the answer.
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

# The same request with its body sent the ordinary way: what /bf/ must
# give too.
plain() {
	local path=$1
	shift
	PLAIN=$(get "$TEST_URL$path" "$@")
}

has_line() {
	grep -qxF -- "$1" <<<"$OUT" && return 0
	printf 'expected the line: %s\n              in: %s\n' "$1" "$OUT" >&2
	return 1
}

@test "body file: form POST fills \$_POST" {
	same /bf/post.php?q=1 -d 'a[]=1&a[]=2&b[k]=v&sp=a+b%2Bc'
	has_line "  'sp' => 'a b+c',"
	plain /post.php?q=1 -d 'a[]=1&a[]=2&b[k]=v&sp=a+b%2Bc'
	assert_eq "$PLAIN" "$OUT" "the same body sent over FastCGI"
}

@test "body file: multipart upload fills \$_POST and \$_FILES" {
	same /bf/upload.php -F 'field=value' \
		-F "one=@$FILES/small.txt;type=text/plain" \
		-F "two=@$FILES/binary.bin;type=application/octet-stream"
	has_line "    'name' => 'binary.bin',"
	assert_contains "$OUT" " $(md5sum <"$FILES/binary.bin" | cut -d' ' -f1) true"
	assert_contains "$OUT" " $(md5sum <"$FILES/small.txt" | cut -d' ' -f1) true"
	plain /upload.php -F 'field=value' \
		-F "one=@$FILES/small.txt;type=text/plain" \
		-F "two=@$FILES/binary.bin;type=application/octet-stream"
	assert_eq "$PLAIN" "$OUT" "the same body sent over FastCGI"
}

@test "body file: a 1 MB upload" {
	same /bf/upload.php -F "big=@$FILES/1m.bin"
	assert_contains "$OUT" " $(md5sum <"$FILES/1m.bin" | cut -d' ' -f1) true"
}

@test "body file: raw body through php://input, read twice" {
	same /bf/input.php -H 'Content-Type: application/json' \
		--data-binary @"$FILES/data.json"
	has_line "first=$(wc -c <"$FILES/data.json") $(md5sum <"$FILES/data.json" | cut -d' ' -f1)"
	has_line "head='{\"a\"' rewound=true"
	same /bf/method.php -X PUT -H 'Content-Type: application/octet-stream' \
		--data-binary @"$FILES/1m.bin"
	has_line "input=1048576 $(md5sum <"$FILES/1m.bin" | cut -d' ' -f1)"
}

@test "body file: a chunked request body" {
	same /bf/input.php -H 'Transfer-Encoding: chunked' \
		-H 'Content-Type: application/json' --data-binary @"$FILES/data.json"
	has_line "first=$(wc -c <"$FILES/data.json") $(md5sum <"$FILES/data.json" | cut -d' ' -f1)"
}

@test "body file: an empty POST" {
	same /bf/method.php -X POST -H 'Content-Length: 0'
	has_line "input=0 $(printf '' | md5sum | cut -d' ' -f1)"
}

@test "body file: a missing file gives an empty body, PHP's warning and a log line" {
	same /missing/post.php -d 'a=1&b=2'
	has_line 'POST=array ('
	has_line ')'
	same /missing/method.php -X PUT --data-binary 'raw body'
	has_line "input=0 $(printf '' | md5sum | cut -d' ' -f1)"
	wait_until 10 grep -qF "REQUEST_BODY_FILE '/nonexistent/fpmd-test-body' cannot be opened: No such file or directory" "$SHARED_LOG"
	wait_until 10 grep -qF "PHP Warning:  REQUEST_BODY_FILE: open('/nonexistent/fpmd-test-body') failed: No such file or directory (2)" "$SHARED_LOG"
	# the warning reached nginx as FastCGI stderr, as php-fpm's did
	local ref test
	ref=$(grep -o 'FastCGI sent in stderr: "[^"]*"' "$REF_NGINX_LOG")
	assert_contains "$ref" "REQUEST_BODY_FILE: open('/nonexistent/fpmd-test-body') failed"
	test=$(grep -o 'FastCGI sent in stderr: "[^"]*"' "$TEST_NGINX_LOG")
	assert_eq "$ref" "$test" "PHP's messages to nginx"
}

@test "body file: the next request on the worker reads its body from FastCGI again" {
	local i
	# two workers: every one of them has served a body file by now
	for i in 1 2 3; do
		same /bf/post.php -d "n=$i"
		has_line "  'n' => '$i',"
		same /post.php -d "m=$i"
		has_line "  'm' => '$i',"
	done
}

@test "body file: a directory gives an empty body and a log line" {
	# (read() fails where open() did not: php-fpm says nothing)
	NGINX_EXTRA=${NGINX_EXTRA//\/nonexistent\/fpmd-test-body/\/tmp}
	phpfpm_start -n ref-dir
	nginx_start -n nginx-ref-dir "$PHPFPM_SOCK"
	local ref_url=$BASE_URL
	fpmd_conf
	fpmd_start
	nginx_start -n nginx-test-dir "$FPMD_SOCK"
	REF_URL=$ref_url TEST_URL=$BASE_URL same /missing/method.php -X PUT \
		--data-binary 'raw body'
	has_line "input=0 $(printf '' | md5sum | cut -d' ' -f1)"
	wait_until 10 grep -qF "REQUEST_BODY_FILE '/tmp': Is a directory" "$FPMD_LOG"
}

@test "body file: one the pool's user cannot read gives an empty body, PHP's warning and a log line" {
	((EUID == 0)) || skip "needs root to run the pools as nobody"
	local d=$BATS_TEST_TMPDIR w
	w=$d/www
	mkdir -p "$w"
	cp "$FPMD_SRCDIR/t/data/www/post.php" "$w/"
	open_path "$w"
	# nginx runs as root here: its body files are root's, mode 0600
	phpfpm_start -n ref-nobody 'user = nobody' 'group = nogroup'
	WWW_ROOT=$w nginx_start -n nginx-ref-nobody "$PHPFPM_SOCK"
	local ref_url=$BASE_URL ref_log=$d/nginx-ref-nobody/error.log
	fpmd_conf 'user = "nobody"' 'group = "nogroup"'
	fpmd_start
	WWW_ROOT=$w nginx_start -n nginx-test-nobody "$FPMD_SOCK"
	REF_URL=$ref_url TEST_URL=$BASE_URL same /bf/post.php -d 'a=1'
	has_line 'POST=array ('
	has_line ')'
	wait_until 10 grep -qF "REQUEST_BODY_FILE '$d/nginx-test-nobody/client_body/" "$FPMD_LOG"
	grep -F "REQUEST_BODY_FILE '$d/nginx-test-nobody/client_body/" "$FPMD_LOG" |
		grep -qF "cannot be opened: Permission denied"
	# PHP's warning, to nginx, as php-fpm's
	assert_contains "$(cat "$ref_log")" "REQUEST_BODY_FILE: open('$d/nginx-ref-nobody/client_body/"
	assert_contains "$(cat "$ref_log")" "failed: Permission denied (13)"
	wait_until 10 grep -qF "failed: Permission denied (13)" "$d/nginx-test-nobody/error.log"
}
