#!/usr/bin/env bats
# The FastCGI protocol as fpmd's workers speak it, byte for byte, with no web
# server in between: t/fcgi-client sends exact records to fpmd's socket and
# prints what comes back, one record a line (see its usage). Bad input must
# cost the peer its connection and one log line, never the worker: those
# tests run one worker (pm.max_children = 1) and check that the same pid
# serves the next request.

load helper
bats_require_minimum_version 1.5.0

CLIENT=$FPMD_BUILDDIR/t/fcgi-client
PROTO=$WWW_ROOT/proto

setup() {
	[[ -x $CLIENT ]] || fail "no $CLIENT: build it first (make check)"
	STALL_PID=
}

teardown() {
	if [[ -n $STALL_PID ]]; then
		kill "$STALL_PID" 2>/dev/null || true
		wait "$STALL_PID" 2>/dev/null || true
	fi
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
	# Not the default control socket: other fpmd may run beside the tests.
	grep -q '^control.socket' "$FPMD_CONF" ||
		sed -i "1i control.socket = \"$BATS_TEST_TMPDIR/control.sock\"" "$FPMD_CONF"
	fpmd_start
}

# fcgi [CLIENT_ARGS...]: the client on fpmd's socket, 5 s per read.
fcgi() {
	"$CLIENT" -t 5 "$FPMD_SOCK" "$@"
}

# get SCRIPT: GET holds the client options for a GET of SCRIPT (a path
# under t/data/www).
get() {
	GET=(-p "SCRIPT_FILENAME=$WWW_ROOT/$1" -p REQUEST_METHOD=GET)
}

# worker_pid: the pid of the worker that serves a plain request.
worker_pid() {
	local out
	get proto/pid.php
	out=$("$CLIENT" -t 5 -b "${GET[@]}" "$FPMD_SOCK") || {
		echo "worker_pid: $out" >&2
		return 1
	}
	[[ $out =~ pid=([0-9]+) ]] || { echo "worker_pid: $out" >&2; return 1; }
	echo "${BASH_REMATCH[1]}"
}

# survives PID [TEXT]: worker PID serves the next request, and the log holds
# exactly one FastCGI line from it, with TEXT in it (none if TEXT is empty).
# A request refused by security.limit_extensions is logged by the worker
# after anything it logged before: once that line is in, all are.
survives() {
	local pid=$1 text=${2:-} now n
	now=$(worker_pid) || return 1
	assert_eq "$pid" "$now" "pid of the worker after the bad input" || return 1
	get x.txt
	fcgi "${GET[@]}" >/dev/null || return 1
	wait_log "pid $pid: Access to the script" || return 1
	n=$(grep -cF -- "pid $pid: FastCGI:" "$FPMD_LOG") || true
	if [[ -z $text ]]; then
		assert_eq 0 "$n" "FastCGI lines in the log" || { cat "$FPMD_LOG" >&2; return 1; }
		return 0
	fi
	assert_eq 1 "$n" "FastCGI lines in the log" || { cat "$FPMD_LOG" >&2; return 1; }
	assert_log_contains "pid $pid: $text"
}

# repeat CHAR N: CHAR N times.
repeat() {
	head -c "$2" /dev/zero | tr '\0' "$1"
}

md5() {
	md5sum | cut -d' ' -f1
}

# ---------------------------------------------------------------- requests ---

@test "GET: STDOUT with the response, empty STDOUT, END_REQUEST, close" {
	start 2
	get hello.php
	run fcgi -o "$BATS_TEST_TMPDIR/out" "${GET[@]}"
	assert_eq 0 "$status" "$output"
	assert_match "${lines[0]}" '^STDOUT [0-9]+ bytes$'
	assert_eq 'STDOUT 0 bytes' "${lines[1]}"
	assert_eq 'END_REQUEST id=1 app=0 proto=0' "${lines[2]}"
	assert_eq EOF "${lines[3]}"
	assert_eq 4 "${#lines[@]}"
	assert_eq $'Content-type: text/html; charset=UTF-8\r\n\r\nHello, world!' \
		"$(cat "$BATS_TEST_TMPDIR/out")"
}

@test "FCGI_KEEP_CONN: three requests on one connection, one worker" {
	start 2
	get proto/pid.php
	run fcgi -b -k -n 3 "${GET[@]}"
	assert_eq 0 "$status" "$output"
	local -a pids ends
	mapfile -t pids < <(grep '^pid=' <<<"$output")
	mapfile -t ends < <(grep '^END_REQUEST' <<<"$output")
	assert_eq 3 "${#pids[@]}" "$output"
	assert_eq "${pids[0]}" "${pids[1]}"
	assert_eq "${pids[0]}" "${pids[2]}"
	assert_eq 3 "${#ends[@]}" "$output"
	assert_not_contains "$output" EOF
}

@test "without FCGI_KEEP_CONN the worker closes after END_REQUEST" {
	start 1
	get proto/pid.php
	run fcgi "${GET[@]}" 'begin 1' params stdin-end read-end \
		'begin 1 keep' params stdin-end read-eof
	assert_eq 0 "$status" "$output"
	assert_eq 'END_REQUEST id=1 app=0 proto=0' "${lines[-2]}"
	assert_eq EOF "${lines[-1]}"
	assert_eq 1 "$(grep -c '^END_REQUEST' <<<"$output")" "$output"
}

@test "GET_VALUES: FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS=0" {
	start 1
	get hello.php
	run fcgi -b "${GET[@]}" \
		'get-values FCGI_MAX_CONNS FCGI_MAX_REQS FCGI_MPXS_CONNS NOT_A_VAR' \
		read request
	assert_eq 0 "$status" "$output"
	assert_match "${lines[0]}" \
		'^GET_VALUES_RESULT FCGI_MAX_CONNS=[1-9][0-9]* FCGI_MAX_REQS=[1-9][0-9]* FCGI_MPXS_CONNS=0$'
	assert_contains "$output" 'Hello, world!'
}

@test "unknown record type: UNKNOWN_TYPE, and the connection goes on" {
	start 1
	get hello.php
	run fcgi -b "${GET[@]}" 'record 42 0 0001020304050607' read request
	assert_eq 0 "$status" "$output"
	assert_eq 'UNKNOWN_TYPE 42' "${lines[0]}"
	assert_contains "$output" 'Hello, world!'
	assert_contains "$output" 'END_REQUEST id=1 app=0 proto=0'
}

@test "role AUTHORIZER: END_REQUEST with FCGI_UNKNOWN_ROLE, then close" {
	start 1
	run fcgi 'begin 1 authorizer' read-eof
	assert_eq 0 "$status" "$output"
	assert_eq $'END_REQUEST id=1 app=0 proto=3\nEOF' "$output"
}

@test "role FILTER with FCGI_KEEP_CONN: FCGI_UNKNOWN_ROLE, the connection goes on" {
	start 1
	get hello.php
	run fcgi -b "${GET[@]}" 'begin 7 filter keep' read request
	assert_eq 0 "$status" "$output"
	assert_eq 'END_REQUEST id=7 app=0 proto=3' "${lines[0]}"
	assert_contains "$output" 'Hello, world!'
}

@test "second BEGIN_REQUEST while PARAMS are read: FCGI_CANT_MPX_CONN for it" {
	start 1
	get hello.php
	run fcgi -b "${GET[@]}" 'begin 1 keep' 'params noend' 'begin 2' read \
		'id 1' params-end stdin-end read-end
	assert_eq 0 "$status" "$output"
	assert_eq 'END_REQUEST id=2 app=0 proto=1' "${lines[0]}"
	assert_contains "$output" 'Hello, world!'
	assert_eq 'END_REQUEST id=1 app=0 proto=0' "${lines[-1]}"
}

@test "second BEGIN_REQUEST while STDIN is read: FCGI_CANT_MPX_CONN for it" {
	start 1
	run fcgi -t 3 -b -p "SCRIPT_FILENAME=$PROTO/input.php" \
		-p REQUEST_METHOD=PUT -p CONTENT_LENGTH=6 \
		'begin 1 keep' params 'stdin abc' 'begin 2' read \
		'id 1' 'stdin def' stdin-end read-end
	assert_eq 0 "$status" "$output"
	assert_eq 'END_REQUEST id=2 app=0 proto=1' "${lines[0]}"
	assert_contains "$output" "6 $(printf abcdef | md5)"
	assert_eq 'END_REQUEST id=1 app=0 proto=0' "${lines[-1]}"
}

@test "ABORT_REQUEST before the end of PARAMS: END_REQUEST, PHP does not run" {
	start 1
	local pid mark=$BATS_TEST_TMPDIR/mark
	pid=$(worker_pid)
	run fcgi -p "SCRIPT_FILENAME=$PROTO/mark.php" -p REQUEST_METHOD=GET \
		-p "MARK=$mark" 'begin 1' 'params noend' abort read-eof
	assert_eq 0 "$status" "$output"
	assert_eq $'END_REQUEST id=1 app=0 proto=0\nEOF' "$output"
	[[ ! -e $mark ]] || fail "mark.php ran"
	survives "$pid"
}

@test "ABORT_REQUEST while the script reads STDIN: END_REQUEST, worker lives" {
	start 1
	local pid
	pid=$(worker_pid)
	run fcgi -p "SCRIPT_FILENAME=$PROTO/input.php" -p REQUEST_METHOD=PUT \
		-p CONTENT_LENGTH=1000 'begin 1 keep' params 'stdin abc' abort \
		read-end
	assert_eq 0 "$status" "$output"
	assert_eq 'END_REQUEST id=1 app=0 proto=0' "${lines[-1]}"
	survives "$pid"
}

@test "records with padding" {
	start 1
	run fcgi -b -p "SCRIPT_FILENAME=$PROTO/input.php" -p REQUEST_METHOD=PUT \
		-p CONTENT_LENGTH=5 'pad 7' 'begin 1' 'params 3' 'stdin he' \
		'stdin llo' stdin-end read-end
	assert_eq 0 "$status" "$output"
	assert_contains "$output" "5 $(printf hello | md5)"
}

# ------------------------------------------------------------------ params ---

@test "PARAMS in 1-byte records" {
	start 1
	get proto/env.php
	run fcgi -b "${GET[@]}" -p 'X_ONE=hello' -p 'X_TWO=' 'begin 1' 'params 1' \
		stdin-end read-end
	assert_eq 0 "$status" "$output"
	assert_contains "$output" "X_ONE 5 $(printf hello | md5)"
	assert_contains "$output" "X_TWO 0 $(printf '' | md5)"
	assert_contains "$output" "REQUEST_METHOD 3 $(printf GET | md5)"
}

@test "names and values of 127, 128 and 300 bytes (1- and 4-byte lengths)" {
	start 1
	local n127 n128 n300 v127 v128 v300
	n127=$(repeat A 127) n128=$(repeat B 128) n300=$(repeat C 300)
	v127=$(repeat a 127) v128=$(repeat b 128) v300=$(repeat c 300)
	get proto/env.php
	run fcgi -b "${GET[@]}" -p "$n127=$v128" -p "$n128=$v127" \
		-p "$n300=$v300" -p "X_300=$v300"
	assert_eq 0 "$status" "$output"
	assert_contains "$output" "$n127 128 $(printf %s "$v128" | md5)"
	assert_contains "$output" "$n128 127 $(printf %s "$v127" | md5)"
	assert_contains "$output" "$n300 300 $(printf %s "$v300" | md5)"
	assert_contains "$output" "X_300 300 $(printf %s "$v300" | md5)"
}

@test "a 60 KB param value, its pair split across PARAMS records" {
	start 1
	local v
	v=$(repeat v 61440)
	get proto/env.php
	run fcgi -b "${GET[@]}" -p "X_BEFORE=$(repeat w 8000)" -p "X_BIG=$v"
	assert_eq 0 "$status" "${output:0:2000}"
	assert_contains "$output" "X_BIG 61440 $(printf %s "$v" | md5)"
	assert_contains "$output" 'X_BEFORE 8000 '
}

# ------------------------------------------------------------ STDIN, STDOUT ---

@test "STDIN in 20000 records of 1 byte" {
	start 1
	local f=$BATS_TEST_TMPDIR/body
	head -c 20000 /dev/urandom >"$f"
	run fcgi -b -p "SCRIPT_FILENAME=$PROTO/input.php" -p REQUEST_METHOD=POST \
		-p CONTENT_TYPE=application/octet-stream -p CONTENT_LENGTH=20000 \
		'begin 1' params "stdin-file $f 1" stdin-end read-end
	assert_eq 0 "$status" "$output"
	assert_contains "$output" "20000 $(md5 <"$f")"
}

@test "STDIN records that arrive 0.2 s apart: the script waits for all" {
	start 1
	run fcgi -b -p "SCRIPT_FILENAME=$PROTO/input.php" -p REQUEST_METHOD=PUT \
		-p CONTENT_LENGTH=5 'begin 1' params 'stdin he' 'sleep 0.2' \
		'stdin llo' stdin-end read-end
	assert_eq 0 "$status" "$output"
	assert_contains "$output" "5 $(printf hello | md5)"
}

@test "a 10 MB request body" {
	start 1 'php_admin_value { post_max_size = "16M" }'
	local f=$BATS_TEST_TMPDIR/body
	head -c 10485760 /dev/urandom >"$f"
	run fcgi -b -p "SCRIPT_FILENAME=$PROTO/input.php" -p REQUEST_METHOD=POST \
		-p CONTENT_TYPE=application/octet-stream \
		-p CONTENT_LENGTH=10485760 -i "$f"
	assert_eq 0 "$status" "$output"
	assert_contains "$output" "10485760 $(md5 <"$f")"
	assert_not_contains "$output" STDERR
}

@test "a body the script leaves unread: drained, the answer is not reset" {
	# php-fpm reads what the peer still sends before it closes: closed
	# with unread bytes, a socket is reset, and the reset can overtake the
	# answer.  nginx answered 502 for such requests, and Debian's cgi-fcgi
	# (libfcgi), which sends the body while it reads, fails with EPIPE.
	command -v cgi-fcgi >/dev/null || skip "no cgi-fcgi (libfcgi-bin)"
	# Past post_max_size, PHP reads none of the body.
	start 1 'php_admin_value { post_max_size = "1M" }'
	local f=$BATS_TEST_TMPDIR/body i
	head -c 4194304 /dev/urandom >"$f"
	for i in 1 2 3; do
		run --separate-stderr env -i PATH="$PATH" \
			SCRIPT_FILENAME="$WWW_ROOT/hello.php" \
			REQUEST_METHOD=POST CONTENT_TYPE=application/octet-stream \
			CONTENT_LENGTH=4194304 \
			cgi-fcgi -bind -connect "$FPMD_SOCK" <"$f"
		assert_eq 0 "$status" "cgi-fcgi: $stderr"
		assert_contains "$output" "Hello, world!"
	done
}

@test "STDOUT of 200000 bytes: several records of at most 65535 bytes" {
	start 1
	local out=$BATS_TEST_TMPDIR/out line n sum=0 records=0
	get output.php
	run fcgi -o "$out" "${GET[@]}" -p QUERY_STRING=n=200000
	assert_eq 0 "$status" "$output"
	for line in "${lines[@]}"; do
		[[ $line =~ ^STDOUT\ ([0-9]+)\ bytes$ ]] || continue
		n=${BASH_REMATCH[1]}
		((n <= 65535)) || fail "a STDOUT record of $n bytes"
		((n > 0)) && records=$((records + 1))
		sum=$((sum + n))
	done
	((records >= 4)) || fail "$records STDOUT records" "$output"
	assert_eq "$(stat -c %s "$out")" "$sum"
	# The body after the header block.
	assert_eq 200000 "$(sed '1,/^\r$/d' "$out" | wc -c)"
}

# ----------------------------------------------------------- bad input ---

@test "bad version byte: closed, logged, worker lives" {
	start 1
	local pid
	pid=$(worker_pid)
	run fcgi 'raw 02 01 00 01 00 08 00 00 00 01 00 00 00 00 00 00' read-eof
	assert_eq 0 "$status" "$output"
	assert_eq EOF "$output"
	survives "$pid" 'FastCGI: bad record version 2'
}

@test "truncated header, then close: logged, worker lives" {
	start 1
	local pid
	pid=$(worker_pid)
	run fcgi 'raw 01 01 00' shutdown read-eof
	assert_eq 0 "$status" "$output"
	assert_eq EOF "$output"
	survives "$pid" 'FastCGI: connection closed in the middle of a record'
}

@test "truncated record body, then close: logged, worker lives" {
	start 1
	local pid
	pid=$(worker_pid)
	run fcgi 'raw 01 01 00 01 00 08 00 00 00 01' shutdown read-eof
	assert_eq 0 "$status" "$output"
	assert_eq EOF "$output"
	survives "$pid" 'FastCGI: connection closed in the middle of a record'
}

@test "BEGIN_REQUEST too short: closed, logged, worker lives" {
	start 1
	local pid
	pid=$(worker_pid)
	run fcgi 'record BEGIN_REQUEST 1 0001' read-eof
	assert_eq 0 "$status" "$output"
	assert_eq EOF "$output"
	survives "$pid" 'FastCGI: short BEGIN_REQUEST'
}

@test "connection closed in the middle of PARAMS: logged, worker lives" {
	start 1
	local pid
	pid=$(worker_pid)
	get proto/pid.php
	run fcgi "${GET[@]}" 'begin 1' 'params noend' shutdown read-eof
	assert_eq 0 "$status" "$output"
	assert_eq EOF "$output"
	survives "$pid" 'FastCGI:'
}

@test "PARAMS with a length running past the stream: logged, worker lives" {
	start 1
	local pid
	pid=$(worker_pid)
	# A 5-byte name and a 4-byte value length of 255, with 4 bytes after.
	run fcgi 'begin 1' 'record PARAMS 1 05 80 00 00 ff 41 42 43 44' \
		params-end read-eof
	assert_eq 0 "$status" "$output"
	assert_eq EOF "$output"
	survives "$pid" 'FastCGI: malformed PARAMS'
}

@test "PARAMS over 1 MiB: closed, logged, worker lives" {
	start 1
	local pid v i
	local -a p=()
	pid=$(worker_pid)
	v=$(repeat x 60000)
	for i in {1..18}; do
		p+=(-p "X_$i=$v")
	done
	run fcgi "${p[@]}" 'begin 1' params read-eof
	assert_eq 0 "$status" "${output:0:2000}"
	assert_eq EOF "$output"
	survives "$pid" 'FastCGI: PARAMS larger than 1048576 bytes'
}

@test "STDIN before the end of PARAMS: closed, logged, worker lives" {
	start 1
	local pid
	pid=$(worker_pid)
	get proto/pid.php
	run fcgi "${GET[@]}" 'begin 1' 'params noend' 'stdin abc' read-eof
	assert_eq 0 "$status" "$output"
	assert_eq EOF "$output"
	survives "$pid" 'FastCGI: request body before the end of PARAMS'
}

@test "64 KiB of random bytes: closed, logged, worker lives" {
	start 1
	local pid f=$BATS_TEST_TMPDIR/random
	pid=$(worker_pid)
	# Seeded, so that a failure can be replayed; version 1 first, so that
	# more than the first byte is looked at.
	"$PYTHON" -c 'import random, sys
b = bytearray(random.Random(7).randbytes(65536))
b[0] = 1
sys.stdout.buffer.write(b)' >"$f"
	run fcgi "raw-file $f" read-eof
	assert_eq 0 "$status" "$output"
	assert_eq EOF "${lines[-1]}"
	survives "$pid" 'FastCGI:'
}

@test "connect and close without a byte: nothing logged, worker lives" {
	start 1
	local pid
	pid=$(worker_pid)
	run fcgi close
	assert_eq 0 "$status" "$output"
	survives "$pid" ''
}

# listen_queue_empty: no connection waits in fpmd's listen queue.
listen_queue_empty() {
	local q
	q=$(ss -xlH src "$FPMD_SOCK" | awk '{ print $3 }')
	[[ $q == 0 ]]
}

# held_connections: how many connections fpmd's side holds open on its socket.
held_connections() {
	ss -xH state established src "$FPMD_SOCK" | wc -l
}

@test "a client that stalls half-way through its request holds one worker only" {
	command -v ss >/dev/null ||
		fail "ss is not installed (Debian package iproute2, which contrib/setup.sh installs)"
	start 2
	local log=$BATS_TEST_TMPDIR/stall.out
	get proto/pid.php
	"$CLIENT" -t 60 "${GET[@]}" "$FPMD_SOCK" 'begin 1' 'params noend' \
		'echo sent' 'sleep 60' >"$log" 2>&1 3>&- &
	STALL_PID=$!
	wait_until 5 grep -q sent "$log" || fail "the stalling client did not start"
	wait_until 5 listen_queue_empty || fail "the stalled connection was not accepted"
	run fcgi -b "${GET[@]}"
	assert_eq 0 "$status" "$output"
	assert_contains "$output" pid=
	# The stalled connection was still held by its worker all along: the
	# request above had the other one.
	wait_until 5 count_is 1 held_connections ||
		fail "expected fpmd to hold the stalled connection only, it holds $(held_connections)"
}

# ------------------------------------------------------- PHP-level answers ---

@test "no REQUEST_METHOD: headers only, the script does not run (php-fpm)" {
	start 1
	local mark=$BATS_TEST_TMPDIR/mark
	run fcgi -b -p "SCRIPT_FILENAME=$PROTO/mark.php" -p "MARK=$mark"
	assert_eq 0 "$status" "$output"
	assert_contains "$output" 'Content-type: text/html'
	assert_not_contains "$output" marked
	assert_eq 'END_REQUEST id=1 app=0 proto=0' "${lines[-2]}"
	[[ ! -e $mark ]] || fail "mark.php ran"
}

@test "SCRIPT_FILENAME outside security.limit_extensions: 403 Access denied." {
	start 1
	get x.txt
	run fcgi -b "${GET[@]}"
	assert_eq 0 "$status" "$output"
	assert_contains "$output" $'Status: 403 Forbidden\r'
	assert_contains "$output" $'\r\n\r\nAccess denied.\n'
}

@test "'..' in SCRIPT_FILENAME: 404 File not found." {
	start 1
	get proto/../hello.php
	run fcgi -b "${GET[@]}"
	assert_eq 0 "$status" "$output"
	assert_contains "$output" $'Status: 404 Not Found\r'
	assert_contains "$output" $'\r\n\r\nFile not found.\n'
	assert_not_contains "$output" Hello
}
