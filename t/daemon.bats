#!/usr/bin/env bats
# fpmd as a process: command line, configuration check, start-up refusals,
# listening sockets, signals, process titles and logging.

# FPMD_BIN and friends come from helper.bash.
# shellcheck disable=SC2153

load helper
bats_require_minimum_version 1.5.0

# ------------------------------------------------------------ local helpers
# (candidates for t/helper.bash)

# fpmd_conf, plus a control socket of the test's own at the end of the
# file (line numbers stay those of helper.bash's template): fpmd_start adds
# one, but fpmd started otherwise here would use the shared default path.
eval "$(declare -f fpmd_conf | sed '1s/^fpmd_conf /_fpmd_conf_base /')"
fpmd_conf() {
	_fpmd_conf_base "$@" || return 1
	echo "control.socket = \"$(t_tmp)/control.sock\"" >>"$FPMD_CONF"
}

# fpmd_run ARGS...: run fpmd to completion (bounded by a timeout), as `run`
# does: $status and $output (stdout and stderr together).
fpmd_run() {
	run timeout 20 "$FPMD_BIN" "$@"
}

# ROOT_ARGS: -R when running as root (a pool without 'user' needs it).
ROOT_ARGS=()
((EUID == 0)) && ROOT_ARGS=(-R)

# assert_err_line FILE LINE WORD...: $output has a line starting with
# "FILE:LINE: " that contains every WORD.
assert_err_line() {
	local file=$1 line=$2 l w ok
	shift 2
	while IFS= read -r l; do
		[[ $l == "$file:$line: "* ]] || continue
		ok=1
		for w in "$@"; do
			[[ $l == *"$w"* ]] || ok=0
		done
		((ok)) && return 0
	done <<<"$output"
	printf 'expected a line "%s:%s: ..." with: %s\ngot:\n%s\n' "$file" "$line" "$*" "$output" >&2
	return 1
}

# count_err_lines FILE: how many lines of $output start with "FILE:N: ".
count_err_lines() {
	local l n=0
	while IFS= read -r l; do
		[[ $l =~ ^"$1":[0-9]+:\  ]] && n=$((n + 1))
	done <<<"$output"
	echo "$n"
}

# fpmd_children PID: "pid args" of every live descendant of PID.
fpmd_children() {
	local p
	for p in $(proc_descendants "$1"); do
		printf '%s %s\n' "$p" "$(proc_args "$p")"
	done
}

_count_is() {
	local n
	n=$("$2" "${@:3}" | wc -l)
	((n == $1))
}

# none_alive PID...: true when none of the pids is a live process.
none_alive() {
	local p
	for p in "$@"; do
		proc_alive "$p" && return 1
	done
	return 0
}

# fpmd_kill9: SIGKILL the master only; reap it; FPMD_PID is cleared.
fpmd_kill9() {
	local pid=$FPMD_PID
	kill -KILL "$pid"
	wait_until 5 _exited "$pid" || return 1
	wait "$pid" 2>/dev/null || true
	FPMD_PID=
}

# fcgi_get HOST PORT SCRIPT_FILENAME: one FastCGI GET request over TCP,
# prints the response (headers and body) the worker sent on STDOUT.
fcgi_get() {
	"$PYTHON" - "$@" <<'EOF'
import socket, struct, sys
host, port, script = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def rec(t, content):
    return struct.pack('>BBHHBx', 1, t, 1, len(content), 0) + content
def ln(n):
    return bytes([n]) if n < 128 else struct.pack('>I', n | 0x80000000)
params = {'SCRIPT_FILENAME': script, 'SCRIPT_NAME': '/' + script.rsplit('/', 1)[-1],
          'REQUEST_METHOD': 'GET', 'QUERY_STRING': '', 'SERVER_PROTOCOL': 'HTTP/1.1'}
body = b''.join(ln(len(k)) + ln(len(v)) + k.encode() + v.encode() for k, v in params.items())
s = socket.create_connection((host, port), timeout=10)
s.sendall(rec(1, struct.pack('>HB5x', 1, 0)) + rec(4, body) + rec(4, b'') + rec(5, b''))
buf = b''
while True:
    d = s.recv(65536)
    if not d:
        break
    buf += d
out, i = b'', 0
while i + 8 <= len(buf):
    _, t, _, cl, pl = struct.unpack('>BBHHB', buf[i:i + 7])
    if t == 6:
        out += buf[i + 8:i + 8 + cl]
    i += 8 + cl + pl
sys.stdout.write(out.decode('latin-1'))
EOF
}

# fpmd_conf_tcp PORT [POOL_LINES...]: fpmd_conf, listening on 127.0.0.1:PORT.
fpmd_conf_tcp() {
	local port=$1
	shift
	fpmd_conf "$@"
	sed -i "s|^    listen = .*|    listen = \"127.0.0.1:$port\"|" "$FPMD_CONF"
}

# fpmd_spawn_split OUT ERR [ARGS...]: start fpmd with stdout to OUT and
# stderr to ERR (fpmd_start merges them); FPMD_LOG is ERR; does not wait.
fpmd_spawn_split() {
	local out=$1 err=$2
	shift 2
	FPMD_LOG=$err
	# shellcheck disable=SC2016
	_spawn "$out" bash -c 'e=$1; shift; exec "$@" 2>"$e"' _ "$err" "$FPMD_BIN" "$@"
	FPMD_PID=$SPAWNED_PID
}

teardown() {
	teardown_stack
}

# -------------------------------------------------------------- command line

@test "fpmd -v prints the fpmd and PHP versions" {
	fpmd_run -v
	[[ $status -eq 0 ]]
	assert_match "$output" '^fpmd [0-9]+\.[0-9]+\.[0-9]+ \(PHP 8\.2\.[0-9]+'
	# The PHP version is the one of the libphp fpmd embeds.
	local php
	php=$(php-config8.2 --version) ||
		fail "php-config8.2 is missing (php8.2-dev, which the build needs)"
	assert_contains "$output" "PHP $php"
}

@test "fpmd --help prints the usage and exits 0" {
	fpmd_run --help
	[[ $status -eq 0 ]]
	assert_contains "$output" "usage: fpmd"
	assert_contains "$output" "-c"
	assert_contains "$output" "--test"
}

@test "fpmd without -c exits 64 with the usage" {
	fpmd_run
	assert_eq 64 "$status" "exit status"
	assert_contains "$output" "usage: fpmd"
	assert_contains "$output" "-c"
}

@test "fpmd with an unknown option exits 64 with the usage" {
	fpmd_conf
	fpmd_run --no-such-option -c "$FPMD_CONF"
	assert_eq 64 "$status" "exit status"
	assert_contains "$output" "usage: fpmd"
}

@test "fpmd -D is refused: fpmd never daemonizes" {
	fpmd_conf
	fpmd_run -D "${ROOT_ARGS[@]}" -c "$FPMD_CONF"
	[[ $status -ne 0 ]]
	assert_contains "$output" "never daemonizes"
	# and it did not start anything
	[[ ! -e $FPMD_SOCK ]]
}

# -------------------------------------------------------------- -t (check)

@test "-t on a good config exits 0 and says the test is successful" {
	fpmd_conf
	fpmd_run -t "${ROOT_ARGS[@]}" -c "$FPMD_CONF"
	assert_eq 0 "$status" "exit status"
	assert_contains "$output" "test is successful"
	# a check starts nothing
	[[ ! -e $FPMD_SOCK ]]
}

@test "-t: an unknown option is reported with FILE:LINE" {
	local c=$BATS_TEST_TMPDIR/bad.conf
	cat >"$c" <<EOF
log_level = notice
bogus_global = 1
pool www {
    listen = "$BATS_TEST_TMPDIR/www.sock"
    pm = static
    bogus_pool = 2
    pm.max_children = 1
}
EOF
	fpmd_run -t "${ROOT_ARGS[@]}" -c "$c"
	[[ $status -ne 0 ]]
	assert_err_line "$c" 2 "unknown option" "bogus_global"
	assert_err_line "$c" 6 "pool www" "unknown option" "bogus_pool"
	assert_eq 2 "$(count_err_lines "$c")" "number of FILE:LINE lines"
	assert_not_contains "$output" "test is successful"
}

@test "-t: a value of the wrong type is reported with FILE:LINE" {
	local c=$BATS_TEST_TMPDIR/bad.conf
	cat >"$c" <<EOF
pool www {
    listen = "$BATS_TEST_TMPDIR/www.sock"
    pm = static
    pm.max_children = many
    catch_workers_output = maybe
    listen.mode = 0999
    request_terminate_timeout = 10x
}
EOF
	fpmd_run -t "${ROOT_ARGS[@]}" -c "$c"
	[[ $status -ne 0 ]]
	assert_err_line "$c" 4 "pool www" "pm.max_children" "many"
	assert_err_line "$c" 5 "pool www" "catch_workers_output" "maybe"
	assert_err_line "$c" 6 "pool www" "listen.mode" "0999"
	assert_err_line "$c" 7 "pool www" "request_terminate_timeout" "10x"
	assert_eq 4 "$(count_err_lines "$c")" "number of FILE:LINE lines"
}

@test "-t: an out-of-range value is reported with FILE:LINE" {
	local c=$BATS_TEST_TMPDIR/bad.conf
	cat >"$c" <<EOF
process.max = -1
pool www {
    listen = "$BATS_TEST_TMPDIR/www.sock"
    pm = static
    pm.max_children = 0
    pm.max_requests = -5
}
EOF
	fpmd_run -t "${ROOT_ARGS[@]}" -c "$c"
	[[ $status -ne 0 ]]
	assert_err_line "$c" 1 "process.max" "-1"
	assert_err_line "$c" 5 "pool www" "pm.max_children" "0"
	assert_err_line "$c" 6 "pool www" "pm.max_requests" "-5"
	assert_eq 3 "$(count_err_lines "$c")" "number of FILE:LINE lines"
}

@test "-t: a duplicate pool is reported with both places" {
	local c=$BATS_TEST_TMPDIR/bad.conf
	cat >"$c" <<EOF
pool www {
    listen = "$BATS_TEST_TMPDIR/a.sock"
    pm = static
    pm.max_children = 1
}

pool www {
    listen = "$BATS_TEST_TMPDIR/b.sock"
    pm = static
    pm.max_children = 1
}
EOF
	fpmd_run -t "${ROOT_ARGS[@]}" -c "$c"
	[[ $status -ne 0 ]]
	assert_err_line "$c" 7 "www" "already defined" "$c:1"
	assert_eq 1 "$(count_err_lines "$c")" "number of FILE:LINE lines"
}

@test "-t: two pools on one address are reported with both places" {
	local c=$BATS_TEST_TMPDIR/bad.conf
	cat >"$c" <<EOF
pool www {
    listen = "$BATS_TEST_TMPDIR/a.sock"
    pm = static
    pm.max_children = 1
}
pool api {
    pm = static
    pm.max_children = 1
    listen = "$BATS_TEST_TMPDIR/a.sock"
}
pool tcp1 {
    listen = "127.0.0.1:9123"
    pm = static
    pm.max_children = 1
}
pool tcp2 {
    pm = static
    listen = "9123"
    pm.max_children = 1
}
EOF
	fpmd_run -t "${ROOT_ARGS[@]}" -c "$c"
	[[ $status -ne 0 ]]
	assert_err_line "$c" 9 "pool api" "$BATS_TEST_TMPDIR/a.sock" "pool www" "$c:2"
	assert_err_line "$c" 18 "pool tcp2" "9123" "pool tcp1" "$c:12"
	assert_eq 2 "$(count_err_lines "$c")" "number of FILE:LINE lines"
}

@test "-t: all problems of a file are reported at once" {
	local c=$BATS_TEST_TMPDIR/bad.conf
	cat >"$c" <<EOF
log_level = notice
bogus_option = 1
pool www {
    listen = "$BATS_TEST_TMPDIR/a.sock"
    pm = static
    pm.max_children = many
    pm.max_requests = -5
}
pool www {
    listen = "$BATS_TEST_TMPDIR/b.sock"
    pm = static
    pm.max_children = 1
}
pool api {
    listen = "$BATS_TEST_TMPDIR/a.sock"
    pm = static
    pm.max_children = 1
}
EOF
	fpmd_run -t "${ROOT_ARGS[@]}" -c "$c"
	[[ $status -ne 0 ]]
	assert_err_line "$c" 2 "unknown option" "bogus_option"
	assert_err_line "$c" 6 "pm.max_children" "many"
	assert_err_line "$c" 7 "pm.max_requests" "-5"
	assert_err_line "$c" 9 "www" "already defined"
	assert_err_line "$c" 15 "pool api" "clashes"
	assert_eq 5 "$(count_err_lines "$c")" "number of FILE:LINE lines"
}

@test "-t: a php_ini that does not exist is an error with FILE:LINE" {
	local c=$BATS_TEST_TMPDIR/bad.conf
	cat >"$c" <<EOF
log_level = notice
php_ini = "$BATS_TEST_TMPDIR/no-such-php.ini"
pool www {
    listen = "$BATS_TEST_TMPDIR/www.sock"
    pm = static
    pm.max_children = 1
}
EOF
	fpmd_run -t "${ROOT_ARGS[@]}" -c "$c"
	[[ $status -ne 0 ]]
	assert_err_line "$c" 2 "$BATS_TEST_TMPDIR/no-such-php.ini"
}

# ---------------------------------------------------------------- root

@test "as root, a pool without 'user' is refused without -R, accepted with -R" {
	((EUID == 0)) || skip "needs root"
	fpmd_conf
	fpmd_run -c "$FPMD_CONF"
	[[ $status -ne 0 ]]
	# points at the pool's first line (line 3 of fpmd_conf's file)
	assert_err_line "$FPMD_CONF" 3 "pool www" "no 'user' set" "-R"
	[[ ! -e $FPMD_SOCK ]]
	fpmd_run -t -c "$FPMD_CONF"
	[[ $status -ne 0 ]]
	assert_contains "$output" "no 'user' set"

	fpmd_run -t -R -c "$FPMD_CONF"
	assert_eq 0 "$status" "exit status of -t -R"
	fpmd_start -R
	[[ -S $FPMD_SOCK ]]
	wait_until 5 unix_connect "$FPMD_SOCK"
}

# ------------------------------------------------------------ unix sockets

@test "a unix socket where another server listens: refuse to start, leave it alone" {
	fpmd_conf
	fpmd_start
	nginx_start
	# A second fpmd on the same socket path.
	local c2=$BATS_TEST_TMPDIR/second.conf
	sed -e 's/^pool www {/pool second {/' -e 's#/control\.sock"#/control2.sock"#' "$FPMD_CONF" >"$c2"
	fpmd_run "${ROOT_ARGS[@]}" -c "$c2"
	[[ $status -ne 0 && $status -ne 124 ]]
	assert_contains "$output" "$FPMD_SOCK"
	assert_contains "$output" "another server is listening"
	# The first one still owns the path and serves.
	[[ -S $FPMD_SOCK ]]
	assert_body_equals "$BASE_URL/hello.php" "Hello, world!"
}

@test "a stale unix socket (left by kill -9) is replaced" {
	local -a kids
	fpmd_conf
	fpmd_start
	mapfile -t kids < <(proc_descendants "$FPMD_PID")
	fpmd_kill9
	wait_until 5 none_alive "${kids[@]}"
	# kill -9 leaves the file; nobody answers on it.
	[[ -S $FPMD_SOCK ]]
	run ! unix_connect "$FPMD_SOCK"
	fpmd_start
	nginx_start
	assert_body_equals "$BASE_URL/hello.php" "Hello, world!"
	run ! grep -i "another server" "$FPMD_LOG"
}

# ------------------------------------------------------- kill -9, TCP port

@test "kill -9 of the master: the children die, a new fpmd binds the TCP port at once" {
	local port p t0 t1
	local -a kids
	port=$(free_port)
	fpmd_conf_tcp "$port" 'pm.max_children = 3'
	fpmd_start
	wait_until 5 _count_is 3 worker_pids "$FPMD_PID"
	mapfile -t kids < <(proc_descendants "$FPMD_PID")
	assert_eq 4 "${#kids[@]}" "prototype + 3 workers"
	fpmd_kill9
	# PR_SET_PDEATHSIG: every child goes with the master.
	if ! wait_until 2 none_alive "${kids[@]}"; then
		for p in "${kids[@]}"; do
			proc_alive "$p" && echo "left: $p $(proc_args "$p")" >&2
			kill -KILL "$p" 2>/dev/null || true
		done
		false
	fi
	# The new master binds at once and serves.
	t0=$(now_ms)
	fpmd_start
	t1=$(now_ms)
	(((t1 - t0) < 3000)) || fail "the new fpmd took $((t1 - t0)) ms to be ready"
	run ! grep -i "already in use" "$FPMD_LOG"
	run fcgi_get 127.0.0.1 "$port" "$WWW_ROOT/hello.php"
	[[ $status -eq 0 ]]
	assert_contains "$output" "Hello, world!"
}

# ----------------------------------------------------------------- signals

# graceful_stop_in_flight [--keepalive]: SIGQUIT while a 2 s request runs.
graceful_stop_in_flight() {
	local d=$BATS_TEST_TMPDIR cpid code body
	fpmd_conf
	fpmd_start
	nginx_start "$@"
	# Warm-up: with keepalive nginx now holds idle connections to workers.
	assert_body_equals "$BASE_URL/hello.php" "Hello, world!"
	curl -sS --max-time 30 -o "$d/slow.body" -w '%{http_code}' \
		"$BASE_URL/feat/sleep.php?s=2&n=100000&mark=$d/mark" >"$d/slow.code" 2>"$d/slow.err" &
	cpid=$!
	wait_until 10 test -s "$d/mark"
	fpmd_stop
	wait "$cpid" || { cat "$d/slow.err" >&2; false; }
	code=$(cat "$d/slow.code")
	assert_eq 200 "$code" "status of the request in flight"
	body=$(cat "$d/slow.body")
	assert_eq 100011 "$(wc -c <"$d/slow.body")" "body size"
	[[ $body == begin$'\n'x*x$'\n'end ]]
	# The socket file is removed.
	[[ ! -e $FPMD_SOCK ]]
	assert_log_contains "exiting"
}

@test "SIGQUIT: a request in flight completes, fpmd exits 0, nothing left, socket removed" {
	graceful_stop_in_flight
}

@test "SIGQUIT: a request in flight completes (nginx keepalive)" {
	graceful_stop_in_flight --keepalive
}

# fast_stop SIGNAL: fpmd exits at once with a long request in flight.
fast_stop() {
	local d=$BATS_TEST_TMPDIR cpid t0 t1
	fpmd_conf
	fpmd_start
	nginx_start
	curl -sS --max-time 30 -o /dev/null "$BASE_URL/feat/sleep.php?s=20&mark=$d/mark" 2>/dev/null &
	cpid=$!
	wait_until 10 test -s "$d/mark"
	t0=$(now_ms)
	fpmd_kill "$1"
	t1=$(now_ms)
	wait "$cpid" || true
	assert_eq 0 "$FPMD_STATUS" "exit status after SIG$1"
	# the request sleeps 20 s: well under that is "at once", even on a
	# loaded machine
	(((t1 - t0) < 10000)) || fail "SIG$1 took $((t1 - t0)) ms to stop fpmd"
	! grep -F SIGKILL "$FPMD_LOG" || fail "a child needed SIGKILL"
	[[ ! -e $FPMD_SOCK ]]
}

@test "SIGTERM: fpmd exits at once (0) with nothing left" {
	fast_stop TERM
}

@test "SIGINT: fpmd exits at once (0) with nothing left" {
	fast_stop INT
}

@test "SIGTERM on an idle fpmd: exits 0 at once" {
	local t0 t1
	fpmd_conf
	fpmd_start
	t0=$(now_ms)
	fpmd_kill TERM
	t1=$(now_ms)
	assert_eq 0 "$FPMD_STATUS" "exit status"
	# with room for a loaded machine; that no child needed the KILL
	# fallback (2 s after TERM) is what the log says
	(((t1 - t0) < 6000)) || fail "took $((t1 - t0)) ms"
	! grep -F SIGKILL "$FPMD_LOG" || fail "a child needed SIGKILL"
	[[ ! -e $FPMD_SOCK ]]
}

# ---------------------------------------------------------- process titles

@test "process titles: master (CONF), prototype gen 1, max_children workers" {
	local conf p a n=0 proto=0 proto_pid=
	fpmd_conf 'pm.max_children = 3'
	fpmd_start
	conf=$(realpath "$FPMD_CONF")
	assert_eq "fpmd: master ($conf)" "$(proc_args "$FPMD_PID")" "master title"
	wait_until 5 _count_is 3 worker_pids "$FPMD_PID"
	while read -r p a; do
		case $a in
		"fpmd: pool www prototype gen 1")
			proto=$((proto + 1))
			proto_pid=$p
			;;
		"fpmd: pool www")
			n=$((n + 1))
			;;
		*)
			fail "unexpected child $p: '$a'"
			;;
		esac
	done < <(fpmd_children "$FPMD_PID")
	assert_eq 1 "$proto" "prototypes"
	assert_eq 3 "$n" "workers"
	# The workers are the prototype's children.
	for p in $(worker_pids "$FPMD_PID"); do
		assert_eq "$proto_pid" "$(ps -o ppid= -p "$p" | tr -d ' ')" "parent of worker $p"
	done
}

# ------------------------------------------------------------------ logging

@test "logs go to stderr by default, nothing to stdout" {
	local d=$BATS_TEST_TMPDIR
	fpmd_conf
	fpmd_spawn_split "$d/stdout.log" "$d/stderr.log" "${ROOT_ARGS[@]}" -c "$FPMD_CONF"
	wait_log "$READY_LINE"
	assert_match "$(grep -F "$READY_LINE" "$d/stderr.log")" \
		'^\[[0-9]{2}-[A-Z][a-z]{2}-[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}\] NOTICE: ready to handle connections$'
	fpmd_stop
	assert_log_contains "exiting"
	assert_eq "" "$(cat "$d/stdout.log")" "stdout"
}

@test "error_log = FILE: the log goes to the file" {
	local d=$BATS_TEST_TMPDIR
	fpmd_conf
	sed -i "1i error_log = \"$d/error.log\"" "$FPMD_CONF"
	_spawn "$d/fpmd.out" "$FPMD_BIN" "${ROOT_ARGS[@]}" -c "$FPMD_CONF"
	FPMD_PID=$SPAWNED_PID
	FPMD_LOG=$d/error.log
	wait_log "$READY_LINE"
	assert_log_contains "starting"
	run ! grep -F "$READY_LINE" "$d/fpmd.out"
	fpmd_stop
	assert_log_contains "exiting"
	run ! grep -F "NOTICE" "$d/fpmd.out"
}

@test "SIGUSR1 reopens the error_log file" {
	local d=$BATS_TEST_TMPDIR w
	fpmd_conf
	sed -i "1i error_log = \"$d/error.log\"" "$FPMD_CONF"
	_spawn "$d/fpmd.out" "$FPMD_BIN" "${ROOT_ARGS[@]}" -c "$FPMD_CONF"
	FPMD_PID=$SPAWNED_PID
	FPMD_LOG=$d/error.log
	wait_log "$READY_LINE"
	mv "$d/error.log" "$d/error.log.1"
	kill -USR1 "$FPMD_PID"
	wait_until 5 test -s "$d/error.log"
	wait_log "re-opened"
	# A new event after the reopen lands in the new file only.
	w=$(worker_pids "$FPMD_PID" | head -n 1)
	kill -KILL "$w"
	wait_log "child $w exited on signal 9"
	run ! grep -F "child $w" "$d/error.log.1"
	assert_contains "$(cat "$d/error.log.1")" "$READY_LINE"
	fpmd_stop
	assert_log_contains "exiting"
	run ! grep -F "exiting" "$d/error.log.1"
}

# ------------------------------------------------------------ PHP start-up

@test "a pool whose php_ini does not exist: fpmd exits non-zero naming the file" {
	local ini=$BATS_TEST_TMPDIR/no-such-php.ini
	fpmd_conf "php_ini = \"$ini\""
	fpmd_run "${ROOT_ARGS[@]}" -c "$FPMD_CONF"
	[[ $status -ne 0 && $status -ne 124 ]]
	assert_contains "$output" "$ini"
	assert_contains "$output" "pool www"
	[[ ! -e $FPMD_SOCK ]]
}

@test "a missing extension in php_admin_value: a warning, PHP starts once and serves" {
	fpmd_conf 'php_admin_value { extension = does_not_exist.so }'
	fpmd_start
	nginx_start
	assert_log_contains "does_not_exist.so"
	assert_body_equals "$BASE_URL/hello.php" "Hello, world!"
	# The prototype started once: no restart loop.
	run ! grep -E "prototype .* (exited|died)" "$FPMD_LOG"
}

@test "PHP start-up failure (fatal error in opcache.preload): fpmd exits non-zero at once" {
	require_php_ext opcache
	local d=$BATS_TEST_TMPDIR t0 t1
	printf '<?php\nno_such_function_in_preload();\n' >"$d/preload.php"
	# opcache.preload_user reads it
	open_path "$d"
	chmod 644 "$d/preload.php"
	fpmd_conf 'php_admin_value {' "    opcache.preload = \"$d/preload.php\"" \
		'    opcache.preload_user = nobody' '}'
	t0=$(now_ms)
	fpmd_run "${ROOT_ARGS[@]}" -c "$FPMD_CONF"
	t1=$(now_ms)
	[[ $status -ne 0 && $status -ne 124 ]]
	assert_contains "$output" "no_such_function_in_preload"
	assert_contains "$output" "cannot start PHP"
	(((t1 - t0) < 5000)) || fail "took $((t1 - t0)) ms"
	[[ ! -e $FPMD_SOCK ]]
}

@test "PHP start-up that exits the prototype (preload without preload_user): fpmd gives up" {
	require_php_ext opcache
	((EUID == 0)) || skip "opcache.preload_user is only required as root"
	local d=$BATS_TEST_TMPDIR n
	printf '<?php\n' >"$d/preload.php"
	fpmd_conf 'php_admin_value {' "    opcache.preload = \"$d/preload.php\"" '}'
	# It must not retry for ever: a prototype that dies before PHP is up,
	# before fpmd was ever ready, is a start-up failure.
	run timeout 8 "$FPMD_BIN" -R -c "$FPMD_CONF"
	n=$(grep -c "restarting" <<<"$output" || true)
	echo "prototype restarts: $n" >&2
	[[ $status -ne 124 ]] || fail "fpmd still running after 8 s (it restarted the prototype $n times)" "$output"
	[[ $status -ne 0 ]]
	assert_contains "$output" "preload_user"
}

# ------------------------------------------------- a config cut short (item 10)

@test "-t: a config cut short anywhere inside its pool is refused, never 'test is successful'" {
	local c=$BATS_TEST_TMPDIR/cut.conf end k
	fpmd_conf 'env {' '    APP_ENV = "prod"' '}' \
		'php_admin_value {' '    memory_limit = 64M' '}' 'pm.max_requests = 500'
	fpmd_run -t "${ROOT_ARGS[@]}" -c "$FPMD_CONF"
	assert_eq 0 "$status" "the whole file ($output)"
	# A partial write can stop at any byte: every cut before the pool's
	# closing '}' must fail the test (before the pool: no pool defined;
	# inside: not closed, or an unterminated string).
	end=$(grep -b -m1 '^}$' "$FPMD_CONF" | cut -d: -f1)
	((end > 100)) || fail "no closing brace found ($end)"
	for ((k = 1; k <= end; k++)); do
		head -c "$k" "$FPMD_CONF" >"$c"
		fpmd_run -t "${ROOT_ARGS[@]}" -c "$c"
		[[ $status -ne 0 ]] || fail "cut after $k bytes passed -t:" "$(cat "$c")" "$output"
		assert_not_contains "$output" "test is successful"
	done
}

@test "-t: a config cut short names the line where the open pool, env, php_admin_value or string started" {
	local c=$BATS_TEST_TMPDIR/cut.conf pool env php
	fpmd_conf 'env {' '    APP_ENV = "prod"' '}' \
		'php_admin_value {' '    memory_limit = 64M' '    error_log = "/var/log/php/www.log"' '}'
	pool=$(grep -n '^pool www {' "$FPMD_CONF" | cut -d: -f1)
	env=$(grep -n 'env {' "$FPMD_CONF" | cut -d: -f1)
	php=$(grep -n 'php_admin_value {' "$FPMD_CONF" | cut -d: -f1)

	# inside the pool
	head -n "$((pool + 2))" "$FPMD_CONF" >"$c"
	fpmd_run -t "${ROOT_ARGS[@]}" -c "$c"
	[[ $status -ne 0 ]] || fail "accepted: $output"
	assert_err_line "$c" "$pool" "pool www:" "not closed by '}' before the end of the file" "cut short"
	assert_eq 1 "$(count_err_lines "$c")" "number of FILE:LINE lines"

	# inside env, inside the pool: both named, each at its line
	head -n "$((env + 1))" "$FPMD_CONF" >"$c"
	fpmd_run -t "${ROOT_ARGS[@]}" -c "$c"
	[[ $status -ne 0 ]] || fail "accepted: $output"
	assert_err_line "$c" "$pool" "pool www:" "not closed"
	assert_err_line "$c" "$env" "pool www: env:" "not closed"
	assert_eq 2 "$(count_err_lines "$c")" "number of FILE:LINE lines"

	# inside php_admin_value
	head -n "$((php + 1))" "$FPMD_CONF" >"$c"
	fpmd_run -t "${ROOT_ARGS[@]}" -c "$c"
	[[ $status -ne 0 ]] || fail "accepted: $output"
	assert_err_line "$c" "$php" "pool www: php_admin_value:" "not closed"

	# inside a string, with lines after it: the line where it started
	head -n "$((php + 1))" "$FPMD_CONF" >"$c"
	printf '    error_log = "/var/log/php\n    }\n}\n' >>"$c"
	fpmd_run -t "${ROOT_ARGS[@]}" -c "$c"
	[[ $status -ne 0 ]] || fail "accepted: $output"
	assert_err_line "$c" "$((php + 2))" "unterminated string" "restore the file"
	assert_eq 1 "$(count_err_lines "$c")" "number of FILE:LINE lines"
}

@test "-t: an included file cut short is refused with its own name and line" {
	local d=$BATS_TEST_TMPDIR
	mkdir -p "$d/pools.d"
	fpmd_conf
	# the pool moves to an included file, which loses its '}'
	sed -n '/^pool www {/,/^}/p' "$FPMD_CONF" | sed '$d' >"$d/pools.d/www.conf"
	sed -i '/^pool www {/,/^}/d' "$FPMD_CONF"
	echo 'include "pools.d/*.conf"' >>"$FPMD_CONF"
	fpmd_run -t "${ROOT_ARGS[@]}" -c "$FPMD_CONF"
	[[ $status -ne 0 ]] || fail "accepted: $output"
	assert_err_line "$d/pools.d/www.conf" 1 "pool www:" "not closed"
	assert_not_contains "$output" "test is successful"
	# made whole again, it passes
	echo '}' >>"$d/pools.d/www.conf"
	fpmd_run -t "${ROOT_ARGS[@]}" -c "$FPMD_CONF"
	assert_eq 0 "$status" "$output"
}

# ------------------------------------------------------ fpmctl -c CONFIG

@test "fpmctl -c finds control.socket as fpmd does (set again in an included file), without fpmd's reader" {
	local d=$BATS_TEST_TMPDIR
	fpmd_conf
	mkdir -p "$d/conf.d" "$d/ctl"
	# fpmd_conf set control.socket; an included file sets it again,
	# relative to its own directory, and wins by coming later.
	printf 'control.socket = "../ctl/inc.sock"\n' >"$d/conf.d/ctl.conf"
	echo 'include "conf.d/*.conf"' >>"$FPMD_CONF"
	fpmd_start
	FPMD_CTL=$d/ctl/inc.sock
	[[ -S $FPMD_CTL ]] || fail "fpmd does not listen on $FPMD_CTL"
	run --separate-stderr "$FPMCTL" -c "$FPMD_CONF" ping
	[[ $status -eq 0 ]] || fail "exit $status: $stderr"

	# A wrong value elsewhere is fpmd's to report: fpmctl still finds the
	# socket, and the reload is refused by fpmd with the line.
	sed -i 's/pm.max_children = 2/pm.max_children = many/' "$FPMD_CONF"
	run --separate-stderr "$FPMCTL" -c "$FPMD_CONF" reload
	assert_eq 1 "$status" "exit status ($stderr)"
	assert_contains "$stderr" "(config_invalid)"
	assert_contains "$stderr" "pm.max_children: 'many'"
	sed -i 's/pm.max_children = many/pm.max_children = 2/' "$FPMD_CONF"

	# A file fpmctl cannot read through: exit 2, its line, what to do.
	printf 'control.socket = "../ctl/inc' >"$d/conf.d/ctl.conf"
	run --separate-stderr "$FPMCTL" -c "$FPMD_CONF" ping
	assert_eq 2 "$status" "exit status ($stderr)"
	assert_contains "$stderr" "$d/conf.d/ctl.conf:1: unterminated string"
	assert_contains "$stderr" "hint:"
	run --separate-stderr "$FPMCTL" -c "$d/none.conf" ping
	assert_eq 2 "$status" "exit status ($stderr)"
	assert_contains "$stderr" "$d/none.conf: cannot read: No such file or directory"
	assert_contains "$stderr" "name the socket with -s"
}

@test "fpmctl links no user, group or host lookup (it does not link fpmd's config reader)" {
	command -v nm >/dev/null || skip "nm is not installed"
	run nm -D --undefined-only "$FPMCTL"
	assert_eq 0 "$status" "nm -D $FPMCTL"
	[[ $output == *getenv* ]] || fail "nm -D lists no imports: $output"
	run grep -E 'getpw|getgr|getaddrinfo|gethostby|cfg_' <<<"$output"
	assert_eq "" "$output" "lookups in fpmctl"
}

@test "a server on the socket path too busy to accept (full backlog): refused at once, not waited for" {
	local t0 t1 holder
	fpmd_conf
	# Another server that listens with a backlog of 0 and never accepts:
	# two connections fill its queue, so a blocking connect() would wait.
	"$PYTHON" - "$FPMD_SOCK" "$BATS_TEST_TMPDIR/held" 3>&- <<'PY' &
import os, socket, sys, time
path, mark = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX)
srv.bind(path)
srv.listen(0)
held = []
for _ in range(2):
    c = socket.socket(socket.AF_UNIX)
    c.setblocking(False)
    try:
        c.connect(path)
    except BlockingIOError:
        pass
    held.append(c)
open(mark, 'w').close()
time.sleep(60)
PY
	holder=$!
	BG[holder]=$holder
	wait_until 10 test -e "$BATS_TEST_TMPDIR/held"
	t0=$(now_ms)
	fpmd_run "${ROOT_ARGS[@]}" -c "$FPMD_CONF"
	t1=$(now_ms)
	[[ $status -ne 0 && $status -ne 124 ]] || fail "fpmd exited $status: $output"
	assert_contains "$output" "another server is listening on '$FPMD_SOCK'"
	(((t1 - t0) < 5000)) || fail "fpmd took $((t1 - t0)) ms to give up"
	[[ -S $FPMD_SOCK ]] || fail "the other server's socket was removed"
	kill "$holder" 2>/dev/null || true
}

@test "global rlimit_files and rlimit_core are fpmd's limits, inherited by pools that set none" {
	local w
	fpmd_conf
	# values below any hard limit, so that the test also runs as a user
	sed -i '1i rlimit_files = 4321\nrlimit_core = 0' "$FPMD_CONF"
	fpmd_start
	# the soft limits: fpmd leaves its hard ones, so a reload can raise
	assert_match "$(grep '^Max open files' "/proc/$FPMD_PID/limits")" ' 4321 +[0-9a-z]+ +files'
	assert_match "$(grep '^Max core file size' "/proc/$FPMD_PID/limits")" ' 0 +[0-9a-z]+ +bytes'
	w=$(worker_pids | head -1)
	[[ -n $w ]] || fail "no worker"
	assert_match "$(grep '^Max open files' "/proc/$w/limits")" ' 4321 +[0-9a-z]+ +files'
}
