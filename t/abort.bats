#!/usr/bin/env bats
# A client that goes away.  nginx (fastcgi_ignore_client_abort off, its
# default) closes the FastCGI connection when its client does, instead of
# sending ABORT_REQUEST.  The worker learns it on its next write: unless
# the script called ignore_user_abort(true), the script ends there, its
# shutdown functions run and see connection_aborted() true, as under
# php-fpm 8.2, which runs the same script behind the same nginx here.

load helper
load websrv

setup_file() {
	phpfpm_start -n php-fpm
	nginx_start -n nginx-ref "$PHPFPM_SOCK"
	export REF_URL=$BASE_URL
	nginx_start --keepalive -n nginx-ref-ka "$PHPFPM_SOCK"
	export REF_KA_URL=$BASE_URL
	fpmd_conf
	fpmd_start
	nginx_start -n nginx-test "$FPMD_SOCK"
	export TEST_URL=$BASE_URL
	nginx_start --keepalive -n nginx-test-ka "$FPMD_SOCK"
	export TEST_KA_URL=$BASE_URL
}

teardown_file() {
	teardown_stack
}

# _both QUERY [ka]: client_drop through php-fpm's and fpmd's nginx; the two
# summaries must be equal; REF and TEST hold them.
_both() {
	local query=$1 rb=$REF_URL tb=$TEST_URL
	if [[ ${2:-} == ka ]]; then
		rb=$REF_KA_URL
		tb=$TEST_KA_URL
	fi
	REF=$(client_drop "$rb" ref "$query") || return 1
	TEST=$(client_drop "$tb" test "$query") || return 1
	assert_eq "$REF" "$TEST" "php-fpm's summary, then fpmd's"
}

@test "abort: a client that goes away ends the script, shutdown functions see it" {
	_both 'n=2000&ms=10'
	assert_eq "shutdown connection_aborted=1 connection_status=1
stopped before its end
stopped soon after the drop" "$TEST"
}

@test "abort: with ignore_user_abort(true) the script runs to its end" {
	_both 'n=300&ms=10&ignore=1'
	assert_eq "shutdown connection_aborted=1 connection_status=1
ran to its end
ran on after the drop" "${TEST% (*}"
}

@test "abort: on a kept-alive FastCGI connection too" {
	_both 'n=2000&ms=10' ka
	assert_contains "$TEST" 'stopped before its end'
	assert_contains "$TEST" 'connection_aborted=1'
}

@test "abort: the workers serve the next requests" {
	for _ in 1 2 3 4; do
		assert_body_equals "$TEST_URL/hello.php" 'Hello, world!'
		assert_body_equals "$TEST_KA_URL/hello.php" 'Hello, world!'
	done
}
