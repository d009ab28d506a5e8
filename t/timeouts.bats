#!/usr/bin/env bats
# Peers that hold a worker without sending a request: request_read_timeout
# (the head of a request from accept, or from the end of the previous one
# on a kept-alive connection, and each wait for body bytes),
# request_terminate_timeout counted from accept as php-fpm counts it, and a
# graceful stop (SIGQUIT) that does not wait for a silent connection.
# Most tests run one worker, so a held worker shows as a request that is
# not served.

load helper

CLIENT=$FPMD_BUILDDIR/t/fcgi-client

setup() {
	[[ -x $CLIENT ]] || fail "no $CLIENT: build it first (make check)"
	BG_PIDS=()
}

teardown() {
	local p
	for p in "${BG_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	teardown_stack
}

# start N [POOL_LINES...]: fpmd with N workers.
start() {
	local n=$1
	shift
	fpmd_conf "$@"
	sed -i "s/pm.max_children = 2\$/pm.max_children = $n/" "$FPMD_CONF"
	grep -q "pm.max_children = $n\$" "$FPMD_CONF" ||
		fail "start: cannot set pm.max_children in $FPMD_CONF"
	fpmd_start
}

# get SCRIPT [QUERY]: GET holds the client options for a GET of SCRIPT (a
# path under t/data/www).
get() {
	GET=(-p "SCRIPT_FILENAME=$WWW_ROOT/$1" -p REQUEST_METHOD=GET
		-p "QUERY_STRING=${2:-}")
}

# served_by: the pid of the worker that serves a plain request (the client
# waits up to 20 s for it).
served_by() {
	local out
	get proto/pid.php
	out=$("$CLIENT" -t 20 -b "${GET[@]}" "$FPMD_SOCK" request) || {
		echo "served_by: $out" >&2
		return 1
	}
	[[ $out =~ pid=([0-9]+) ]] || { echo "served_by: $out" >&2; return 1; }
	echo "${BASH_REMATCH[1]}"
}

# bg_client NAME CLIENT_ARGS...: the client in the background, its output
# in $BATS_TEST_TMPDIR/NAME.out; BG_PID is its pid.
bg_client() {
	local name=$1
	shift
	"$CLIENT" "$@" >"$BATS_TEST_TMPDIR/$name.out" 2>&1 3>&- &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
}

# silent NAME: a client that connects, says nothing and waits (up to 60 s)
# for the server to close; its output ends with EOF when it did.
silent() {
	bg_client "$1" -t 60 "$FPMD_SOCK" 'echo connected' read-eof
	wait_until 5 grep -q connected "$BATS_TEST_TMPDIR/$1.out" ||
		fail "the silent client did not connect"
}

# states: the states of the workers, sorted, joined with commas.
states() {
	ctl --json status --full |
		json "','.join(sorted(p['state'] for p in d['pools'][0]['processes']))"
}

# taken: no connection waits in the listen queue (a worker took it).
taken() {
	count_is 0 eval 'ctl --json status | json "d[\"pools\"][0][\"listen_queue\"]"'
}

# closed NAME: the background client NAME saw the server close.
closed() {
	[[ $(tail -n 1 "$BATS_TEST_TMPDIR/$1.out") == EOF ]]
}

@test "a silent connection is dropped by request_read_timeout; the worker serves the next request" {
	start 1 'request_read_timeout = 2s'
	local pid t0 now
	pid=$(served_by)
	t0=$(now_ms)
	silent quiet
	wait_until 5 taken || fail "the silent connection was not accepted"
	# The next request waits in the listen queue until the worker is free.
	now=$(served_by)
	assert_eq "$pid" "$now" "the same worker serves the next request"
	wait_until 5 closed quiet || fail "the silent client was not closed: $(cat "$BATS_TEST_TMPDIR/quiet.out")"
	(($(now_ms) - t0 >= 1500)) || fail "closed before request_read_timeout"
	assert_log_contains "pid $pid: no request from pid $BG_PID within 2 s of connecting (request_read_timeout), closing the connection"
	assert_eq 1 "$(grep -c 'request_read_timeout' "$FPMD_LOG")"
	wait_until 5 count_is Idle states || fail "the worker is not idle: $(states)"
}

# trickle NAME DELAY: a client that sends a whole GET request one byte
# every DELAY seconds (it would take minutes), then reads to the end.
trickle() {
	local -a cmds=('echo connected')
	local b
	for b in $("$PYTHON" - "$WWW_ROOT/proto/pid.php" <<'EOF'
import struct, sys
def rec(t, c):
    return struct.pack('>BBHHBB', 1, t, 1, len(c), 0, 0) + c
def pair(n, v):
    return bytes([len(n), len(v)]) + n + v
p = pair(b'SCRIPT_FILENAME', sys.argv[1].encode()) + pair(b'REQUEST_METHOD', b'GET')
req = rec(1, struct.pack('>HB5x', 1, 0)) + rec(4, p) + rec(4, b'') + rec(5, b'')
print(' '.join('%02x' % c for c in req))
EOF
	); do
		cmds+=("raw $b" "sleep $2")
	done
	bg_client "$1" -t 60 "$FPMD_SOCK" "${cmds[@]}" read-eof
	wait_until 5 grep -q connected "$BATS_TEST_TMPDIR/$1.out" ||
		fail "the trickling client did not connect"
}

@test "a client that sends one byte a second is dropped by request_read_timeout" {
	start 1 'request_read_timeout = 2s'
	local pid
	pid=$(served_by)
	trickle slow 1
	wait_until 5 taken || fail "the slow connection was not accepted"
	assert_eq "$pid" "$(served_by)" "the same worker serves the next request"
	assert_log_contains "pid $pid: the request from pid $BG_PID did not reach the end of its FastCGI params within 2 s (request_read_timeout), closing the connection"
	# The client's writes after the close go nowhere; it never got an answer.
	kill "$BG_PID"
	wait "$BG_PID" 2>/dev/null || true
	! grep -q pid= "$BATS_TEST_TMPDIR/slow.out"
}

@test "request_read_timeout bounds each wait for body bytes" {
	start 1 'request_read_timeout = 2s'
	local pid
	pid=$(served_by)
	# A POST whose body stops after 4 of its 10 bytes.
	bg_client body -t 60 "$FPMD_SOCK" -p "SCRIPT_FILENAME=$WWW_ROOT/proto/input.php" \
		-p REQUEST_METHOD=POST -p CONTENT_LENGTH=10 \
		'begin 1' params 'stdin abcd' 'echo sent' read-eof
	wait_until 5 grep -q sent "$BATS_TEST_TMPDIR/body.out" ||
		fail "the client did not send its body"
	assert_eq "$pid" "$(served_by)" "the same worker serves the next request"
	wait_log "pid $pid: no request body from pid $BG_PID for 2 s (request_read_timeout), closing the connection"
	wait_until 5 closed body || fail "the client was not closed: $(cat "$BATS_TEST_TMPDIR/body.out")"
}

@test "request_read_timeout = 0, request_terminate_timeout = 3s: the terminate timeout frees a silent connection, as php-fpm" {
	start 1 'request_read_timeout = 0' 'request_terminate_timeout = 3s'
	local pid t0 now
	pid=$(served_by)
	t0=$(now_ms)
	silent quiet
	wait_until 5 taken || fail "the silent connection was not accepted"
	# As php-fpm: a worker holding a connection is reading headers, and
	# the terminate timeout runs from accept.
	assert_eq 'Reading headers' "$(states)"
	now=$(served_by)
	[[ $now != "$pid" ]] || fail "the worker that held the connection serves again: it was not terminated"
	(($(now_ms) - t0 >= 2500)) || fail "freed before request_terminate_timeout"
	wait_until 5 grep -qE "child $pid, .*execution timed out" "$FPMD_LOG" ||
		fail "no terminate timeout logged for $pid: $(cat "$FPMD_LOG")"
	wait_until 5 closed quiet || fail "the silent client was not closed"
}

@test "SIGQUIT with a silent connection open: fpmd ends at once; a request in flight completes, its sleep not cut short" {
	start 2 'request_read_timeout = 0'
	local d=$BATS_TEST_TMPDIR pid=$FPMD_PID t0 slept
	silent quiet
	get feat/nap.php "s=2&mark=$d/mark"
	bg_client nap -t 30 -b "${GET[@]}" "$FPMD_SOCK" request
	local nap=$BG_PID
	wait_until 10 test -s "$d/mark" || fail "the request did not start"
	wait_until 5 taken || fail "the silent connection was not accepted"
	t0=$(now_ms)
	kill -QUIT "$pid"
	# The silent connection goes at once, the request in flight ends.
	wait_until 3 closed quiet || fail "the silent connection was kept after SIGQUIT"
	wait_until 6 _exited "$pid" || fail "fpmd did not end within 6 s of SIGQUIT"
	FPMD_PID=
	wait "$pid" || fail "fpmd exited with status $?"
	echo "# fpmd ended $(($(now_ms) - t0)) ms after SIGQUIT" >&3
	wait "$nap" || fail "the request in flight failed: $(cat "$d/nap.out")"
	[[ $(cat "$d/nap.out") =~ slept=([0-9.]+) ]] || fail "no answer: $(cat "$d/nap.out")"
	slept=${BASH_REMATCH[1]}
	[[ ${slept%%.*} -ge 2 ]] || fail "the script's sleep was cut short: $slept s"
}

@test "reload: old workers holding a silent or an idle kept-alive connection leave at once" {
	start 2 'request_read_timeout = 0'
	local old p
	old=$(worker_procs | xargs)
	silent quiet
	get proto/pid.php
	bg_client ka -t 60 -b -k "${GET[@]}" "$FPMD_SOCK" request 'echo answered' read-eof
	wait_until 5 grep -q answered "$BATS_TEST_TMPDIR/ka.out" ||
		fail "no answer: $(cat "$BATS_TEST_TMPDIR/ka.out")"
	wait_until 5 taken || fail "the silent connection was not accepted"
	assert_eq 'Reading headers,Reading headers' "$(states)"
	run ctl reload
	assert_eq 0 "$status" "$output"
	wait_until 5 closed quiet || fail "the silent connection was kept by the old generation"
	wait_until 5 closed ka || fail "the kept-alive connection was kept by the old generation"
	for p in $old; do
		wait_until 5 _exited "$p" || fail "old worker $p is still there"
	done
	[[ $(served_by) =~ ^[0-9]+$ ]]
}

@test "a kept-alive connection idle past request_read_timeout is closed" {
	start 1 'request_read_timeout = 2s'
	local pid
	pid=$(served_by)
	get proto/pid.php
	bg_client ka -t 30 -b -k "${GET[@]}" "$FPMD_SOCK" request 'echo answered' read-eof
	wait_until 5 grep -q answered "$BATS_TEST_TMPDIR/ka.out" ||
		fail "no answer: $(cat "$BATS_TEST_TMPDIR/ka.out")"
	assert_contains "$(cat "$BATS_TEST_TMPDIR/ka.out")" "pid=$pid"
	# The worker waits on the kept connection, then gives it up.
	wait_until 10 closed ka || fail "the kept-alive connection was not closed: $(cat "$BATS_TEST_TMPDIR/ka.out")"
	assert_eq "$pid" "$(served_by)"
	# Routine for web servers: not worth a warning.
	run grep -c 'request_read_timeout' "$FPMD_LOG"
	assert_eq 0 "$output" "log lines about the closed connection"
}

@test "nginx keep-alive: connections the worker closes when idle cost no request (no 502)" {
	start 1 'request_read_timeout = 1s'
	nginx_start --keepalive
	local i
	for i in 1 2 3 4; do
		assert_status "$BASE_URL/hello.php" 200
		# nginx keeps the connection; the worker waits on it...
		wait_until 5 count_is 'Reading headers' states ||
			fail "round $i: the worker does not wait on the kept connection: $(states)"
		# ...and closes it after the read timeout.
		wait_until 10 count_is Idle states ||
			fail "round $i: the kept connection was not closed: $(states)"
	done
	for i in $(seq 1 20); do
		assert_status "$BASE_URL/hello.php" 200
	done
	run grep -E 'prematurely|upstream' "$(t_tmp)/nginx/error.log"
	assert_eq "" "$output" "nginx errors"
}
