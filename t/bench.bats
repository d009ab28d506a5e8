#!/usr/bin/env bats
# A smoke run of bench/fcgi-bench, the load generator of bench/run, against
# a real fpmd: a few hundred requests over a unix socket and over TCP, a new
# connection per request and keep-alive, and a POST body the script reads
# back.  Every request must be answered 200 with the script's output, and
# the pool's accepted_conn must grow by exactly the count the client
# reports (the two ends agree).  Nothing here is timed: the figures are
# bench/run's business.

load helper
bats_require_minimum_version 1.5.0

BENCH=$FPMD_BUILDDIR/bench/fcgi-bench
N=300

setup() {
	[[ -x $BENCH ]] || fail "no $BENCH: build it first (make)"
}

teardown() {
	teardown_stack
}

# start_pools: pool www on a unix socket and pool tcp on 127.0.0.1:$PORT,
# 2 static workers each.
start_pools() {
	PORT=$(free_port)
	fpmd_conf
	cat >>"$FPMD_CONF" <<EOF
pool tcp {
    listen = "127.0.0.1:$PORT"
    pm = static
    pm.max_children = 2
}
EOF
	fpmd_start
}

# accepted POOL: the pool's accepted_conn.
accepted() {
	ctl status --json | json "[p['accepted_conn'] for p in d['pools'] if p['pool'] == '$1'][0]"
}

# kv KEY: the value of KEY in fcgi-bench --kv's line ($output).
kv() {
	local line
	line=$(grep '^requests=' <<<"$output") || return 1
	sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$line"
}

# smoke POOL ADDRESS [ARGS...]: N hello-world requests, all answered.
smoke() {
	local pool=$1 addr=$2 before after
	shift 2
	before=$(accepted "$pool")
	run "$BENCH" --kv -n "$N" -c 8 -T 60 -e 'Hello, world!' \
		-f "$WWW_ROOT/hello.php" "$@" "$addr"
	echo "$output"
	assert_eq 0 "$status" "exit status of fcgi-bench"
	assert_eq "$N" "$(kv requests)" "requests answered"
	assert_eq 0 "$(kv errors)" "errors"
	assert_eq 0 "$(kv non200)" "non-200 answers"
	assert_eq 0 "$(kv bad)" "answers without the script's output"
	after=$(accepted "$pool")
	assert_eq "$((before + N))" "$after" "pool $pool's accepted_conn"
}

@test "fcgi-bench: unix socket, a new connection per request" {
	start_pools
	smoke www "$FPMD_SOCK"
}

@test "fcgi-bench: unix socket, keep-alive, two threads" {
	start_pools
	smoke www "unix:$FPMD_SOCK" -k -t 2
}

@test "fcgi-bench: TCP, a new connection per request" {
	start_pools
	smoke tcp "127.0.0.1:$PORT"
}

@test "fcgi-bench: TCP, keep-alive" {
	start_pools
	smoke tcp "127.0.0.1:$PORT" -k
}

@test "fcgi-bench: keep-alive across pm.max_requests: retried on a new connection" {
	# Each worker closes its kept connection after 20 requests and
	# exits: the client must take the next request to a new connection,
	# as nginx does, not wait for an answer that never comes.
	fpmd_conf 'pm.max_requests = 20'
	fpmd_start
	run "$BENCH" --kv -n 200 -c 2 -k -T 10 -e 'Hello, world!' \
		-f "$WWW_ROOT/hello.php" "$FPMD_SOCK"
	echo "$output"
	assert_eq 0 "$status" "exit status of fcgi-bench"
	assert_eq 200 "$(kv requests)" "requests answered"
	assert_eq 0 "$(kv errors)" "errors"
}

@test "fcgi-bench: a 64 KB POST body reaches the script whole" {
	start_pools
	run "$BENCH" --kv -n 50 -c 4 -k -P 65536 -e 'first=65536 ' \
		-f "$WWW_ROOT/input.php" "$FPMD_SOCK"
	echo "$output"
	assert_eq 0 "$status" "exit status of fcgi-bench"
	assert_eq 50 "$(kv requests)" "requests answered"
	assert_eq 0 "$(kv bad)" "answers without the body's length"
}

@test "fcgi-bench: a missing script counts as non-200, exit 1" {
	start_pools
	run "$BENCH" --kv -n 20 -c 2 -f "$WWW_ROOT/no-such-script.php" \
		"$FPMD_SOCK"
	echo "$output"
	assert_eq 1 "$status" "exit status of fcgi-bench"
	assert_eq 20 "$(kv requests)" "requests answered"
	assert_eq 20 "$(kv non200)" "non-200 answers"
	assert_eq 0 "$(kv errors)" "errors"
}

@test "fcgi-bench: nobody listening counts as errors, exit 1" {
	local sock=$BATS_TEST_TMPDIR/nobody.sock
	run "$BENCH" --kv -n 10 -c 2 -f "$WWW_ROOT/hello.php" "$sock"
	echo "$output"
	assert_eq 1 "$status" "exit status of fcgi-bench"
	assert_eq 0 "$(kv requests)" "requests answered"
	assert_eq 10 "$(kv errors)" "errors"
	assert_contains "$output" "connect: No such file or directory"
}

@test "fcgi-bench: usage errors say what is wrong, exit 2" {
	run "$BENCH" "$FPMD_SRCDIR/nothing.sock"
	assert_eq 2 "$status" "exit status without -f"
	assert_contains "$output" "-f SCRIPT_FILENAME is required"
	run "$BENCH" -f /x.php -c 0 /tmp/x.sock
	assert_eq 2 "$status" "exit status of -c 0"
	assert_contains "$output" "-c wants a number >= 1, got '0'"
	run "$BENCH" -f /x.php -p NOEQUALS /tmp/x.sock
	assert_eq 2 "$status" "exit status of a bad -p"
	assert_contains "$output" "-p wants NAME=VALUE"
	run "$BENCH" -f /x.php '[::1:9000'
	assert_eq 2 "$status" "exit status of a bad address"
	assert_contains "$output" "want [V6ADDR]:PORT"
	run "$BENCH" --help
	assert_eq 0 "$status" "exit status of --help"
	assert_contains "$output" "usage: fcgi-bench"
}
