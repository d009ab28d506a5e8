#!/usr/bin/env bats
# Process management: how many workers run, their replacement, recycling,
# back-off, identity, output, environment, working directory and the opcache
# they share.

load helper
bats_require_minimum_version 1.5.0

# ------------------------------------------------------------ local helpers
# (candidates for t/helper.bash)

# prototype_pid [PID]: the pid of the pool prototype under fpmd PID.
prototype_pid() {
	local p
	for p in $(proc_descendants "${1:-$FPMD_PID}"); do
		[[ $(proc_args "$p") == "fpmd: pool "*" prototype "* ]] && echo "$p"
	done
	return 0
}

# nworkers_is N: true when exactly N workers run.
nworkers_is() {
	(($(worker_pids | wc -l) == $1))
}

# proc_uids PID: real, effective, saved and fs uid of PID.
proc_uids() {
	awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$1/status"
}

# mkline TAG N CHAR: the N-byte text the feat/stderr.php and
# feat/errorlog.php scripts make: "TAG:", CHARs, "<END>".
mkline() {
	local fill=$(($2 - ${#1} - 6)) s
	printf -v s '%*s' "$fill" ''
	printf '%s:%s<END>\n' "$1" "${s// /$3}"
}

# get_pid URL: the body of a script that answers with its worker's pid.
get_pid() {
	http "$1" || return 1
	assert_eq 200 "$HTTP_STATUS" "status of $1" || return 1
	[[ $HTTP_BODY =~ ^[0-9]+$ ]] || { echo "not a pid: $HTTP_BODY" >&2; return 1; }
	printf '%s\n' "$HTTP_BODY"
}

teardown() {
	teardown_stack
}

# ------------------------------------------------------------------- counts

@test "static pool: exactly pm.max_children workers, also after requests" {
	fpmd_conf 'pm.max_children = 3'
	fpmd_start
	wait_until 5 nworkers_is 3
	nginx_start
	for _ in 1 2 3 4 5 6; do
		assert_body_equals "$BASE_URL/hello.php" "Hello, world!"
	done
	nworkers_is 3
	# and one prototype
	assert_eq 1 "$(prototype_pid | wc -l)" "prototypes"
}

@test "a worker killed with SIGKILL is replaced and a WARNING is logged" {
	local before after victim
	fpmd_conf 'pm.max_children = 3'
	fpmd_start
	wait_until 5 nworkers_is 3
	before=$(worker_pids)
	victim=$(head -n 1 <<<"$before")
	kill -KILL "$victim"
	wait_log "WARNING: [pool www] child $victim exited on signal 9"
	wait_until 5 nworkers_is 3
	after=$(worker_pids)
	assert_not_contains "$after" "$victim"
	# the others are untouched
	for p in $before; do
		[[ $p == "$victim" ]] || assert_contains "$after" "$p"
	done
	nginx_start
	assert_body_equals "$BASE_URL/hello.php" "Hello, world!"
}

# max_requests_recycle [--keepalive]: max_children = 1, pm.max_requests = 3.
max_requests_recycle() {
	local -a pids=()
	local i
	fpmd_conf 'pm.max_children = 1' 'pm.max_requests = 3'
	fpmd_start
	nginx_start "$@"
	for i in 1 2 3 4 5 6 7; do
		pids+=("$(get_pid "$BASE_URL/feat/pid.php")") || fail "request $i failed"
	done
	echo "pids: ${pids[*]}" >&2
	assert_eq "${pids[0]}" "${pids[1]}" "requests 1 and 2"
	assert_eq "${pids[0]}" "${pids[2]}" "requests 1 and 3"
	[[ ${pids[3]} != "${pids[0]}" ]] || fail "the 4th request ran in the old worker ${pids[0]}"
	assert_eq "${pids[3]}" "${pids[4]}" "requests 4 and 5"
	assert_eq "${pids[3]}" "${pids[5]}" "requests 4 and 6"
	[[ ${pids[6]} != "${pids[3]}" && ${pids[6]} != "${pids[0]}" ]] ||
		fail "the 7th request ran in an old worker"
	# A worker that reached max_requests is not a failure.
	run ! grep -E "WARNING|ERROR" "$FPMD_LOG"
	wait_until 5 nworkers_is 1
}

@test "pm.max_requests = 3: the worker is replaced after 3 requests, none fails" {
	max_requests_recycle
}

@test "pm.max_requests = 3: the same through nginx keepalive" {
	max_requests_recycle --keepalive
}

@test "a worker that keeps crashing is restarted with a back-off" {
	require_php_ext posix
	local deadline n requests=0
	fpmd_conf 'pm.max_children = 1' 'rlimit_core = 0'
	fpmd_start
	nginx_start
	# Crash the worker again and again for 3 seconds: each new worker
	# takes the next crashing request at once.
	deadline=$(($(now_ms) + 3000))
	while (($(now_ms) < deadline)); do
		curl -sS -o /dev/null --max-time 10 "$BASE_URL/feat/crash.php" 2>/dev/null || true
		requests=$((requests + 1))
	done
	n=$(grep -c "exited on signal 11" "$FPMD_LOG" || true)
	echo "crashes in 3 s: $n ($requests requests)" >&2
	((n >= 2)) || fail "expected the worker to crash at least twice, got $n"
	# 100, 200, 400, 800, 1600 ms: about 5 in 3 s; a tight loop makes dozens
	((n <= 10)) || fail "$n restarts in 3 s: no back-off"
	assert_log_contains "next start in"
	# The pool comes back once the crashes stop.
	assert_body_equals "$BASE_URL/hello.php" "Hello, world!"
	wait_until 15 nworkers_is 1
}

# ----------------------------------------------------------------- identity

@test "user = nobody (as root, no -R): PHP, prototype and workers run as nobody, the master as root" {
	require_php_ext posix
	((EUID == 0)) || skip "needs root"
	local d=$BATS_TEST_TMPDIR/www p
	mkdir -p "$d/feat"
	cp "$WWW_ROOT/feat/whoami.php" "$d/feat/"
	open_path "$d"
	chmod 755 "$d/feat"
	chmod 644 "$d/feat/whoami.php"
	fpmd_conf 'user = nobody' 'pm.max_children = 2'
	fpmd_start --no-R
	WWW_ROOT=$d nginx_start
	http "$BASE_URL/feat/whoami.php"
	assert_eq 200 "$HTTP_STATUS"
	assert_contains "$HTTP_BODY" "euid=65534 egid=65534 uid=65534 user=nobody"
	assert_eq root "$(ps -o user= -p "$FPMD_PID" | tr -d ' ')" "master's user"
	assert_eq "0 0 0 0" "$(proc_uids "$FPMD_PID")" "master's uids"
	p=$(prototype_pid)
	[[ -n $p ]]
	assert_eq nobody "$(ps -o user= -p "$p" | tr -d ' ')" "prototype's user"
	assert_eq "65534 65534 65534 65534" "$(proc_uids "$p")" "prototype's uids"
	wait_until 5 nworkers_is 2
	for p in $(worker_pids); do
		assert_eq nobody "$(ps -o user= -p "$p" | tr -d ' ')" "worker $p's user"
		assert_eq "65534 65534 65534 65534" "$(proc_uids "$p")" "worker $p's uids"
	done
}

@test "user naming a user that does not exist: refused at start with FILE:LINE" {
	((EUID == 0)) || skip "user is only applied as root"
	fpmd_conf 'user = no-such-user-fpmd'
	run timeout 20 "$FPMD_BIN" -c "$FPMD_CONF"
	[[ $status -ne 0 && $status -ne 124 ]]
	# the user line is the 8th of fpmd_conf's file
	assert_contains "$output" "$FPMD_CONF:8: pool www: user 'no-such-user-fpmd' does not exist"
	[[ ! -e $FPMD_SOCK ]]
}

# ------------------------------------------------------------------- output

@test "catch_workers_output = yes: stderr and stdout of a worker reach the log, 5000-byte line whole" {
	local pid line
	fpmd_conf 'catch_workers_output = yes'
	# within log_limit a line stays one (t/logsock.bats wraps longer ones)
	sed -i '1i log_limit = 8192' "$FPMD_CONF"
	fpmd_start
	nginx_start
	pid=$(get_pid "$BASE_URL/feat/stderr.php?tag=short")
	wait_log "[pool www] child $pid said into stderr: \"short:"
	assert_log_contains "WARNING: [pool www] child $pid said into stderr: \"$(mkline short 20 e)\""
	wait_log "[pool www] child $pid said into stdout: \"out-short<END>\""

	pid=$(get_pid "$BASE_URL/feat/stderr.php?tag=long&n=5000")
	line=$(mkline long 5000 e)
	assert_eq 5000 "${#line}"
	wait_log "[pool www] child $pid said into stderr: \"$line\""
}

@test "catch_workers_output = no: worker output does not reach the log" {
	local pid
	fpmd_conf 'catch_workers_output = no'
	fpmd_start
	nginx_start
	pid=$(get_pid "$BASE_URL/feat/stderr.php?tag=hidden")
	# a later event shows the log is up to date
	get_pid "$BASE_URL/feat/errorlog.php?tag=marker" >/dev/null
	wait_log "marker:"
	run ! grep -F "hidden" "$FPMD_LOG"
	run ! grep -F "said into" "$FPMD_LOG"
}

@test "error_log() from PHP reaches the fpmd log with pool and pid, 3000 bytes whole" {
	local pid msg l
	fpmd_conf
	sed -i '1i log_limit = 8192' "$FPMD_CONF"
	fpmd_start
	nginx_start
	pid=$(get_pid "$BASE_URL/feat/errorlog.php?tag=hello")
	msg=$(mkline hello 20 m)
	wait_log "$msg"
	l=$(grep -F "$msg" "$FPMD_LOG")
	assert_contains "$l" "[pool www]"
	assert_contains "$l" "$pid"
	assert_contains "$l" "PHP message: hello:"

	pid=$(get_pid "$BASE_URL/feat/errorlog.php?tag=big&n=3000")
	msg=$(mkline big 3000 m)
	assert_eq 3000 "${#msg}"
	wait_log "$msg"
	l=$(grep -F "$msg" "$FPMD_LOG")
	assert_contains "$l" "[pool www]"
	assert_contains "$l" "$pid"
}

# -------------------------------------------------------------- environment

@test "clear_env = yes: the master's environment is hidden, env { } is seen" {
	export FPMD_TEST_MARKER=from-the-master
	# shellcheck disable=SC2016 # fpmd expands $NAME in env values
	fpmd_conf 'clear_env = yes' 'env {' '    FOO = "bar"' '    COPIED = "$FPMD_TEST_MARKER"' '}'
	fpmd_start
	nginx_start
	http "$BASE_URL/feat/env.php?k=FPMD_TEST_MARKER,FOO,COPIED,PATH"
	assert_eq 200 "$HTTP_STATUS"
	assert_contains "$HTTP_BODY" "FPMD_TEST_MARKER=false"
	assert_contains "$HTTP_BODY" "FOO='bar'"
	assert_contains "$HTTP_BODY" "COPIED='from-the-master'"
	assert_contains "$HTTP_BODY" "PATH=false"
}

@test "clear_env = no: the master's environment is seen" {
	export FPMD_TEST_MARKER=from-the-master
	fpmd_conf 'clear_env = no' 'env { FOO = "bar" }'
	fpmd_start
	nginx_start
	http "$BASE_URL/feat/env.php?k=FPMD_TEST_MARKER,FOO"
	assert_eq 200 "$HTTP_STATUS"
	assert_contains "$HTTP_BODY" "FPMD_TEST_MARKER='from-the-master'"
	assert_contains "$HTTP_BODY" "FOO='bar'"
}

# ------------------------------------------------------------------- chdir

@test "chdir = /tmp: workers live in /tmp, a script runs in its own directory (as php-fpm)" {
	local pid p
	fpmd_conf 'chdir = "/tmp"' 'pm.max_children = 1'
	fpmd_start
	nginx_start
	wait_until 5 nworkers_is 1
	p=$(worker_pids)
	assert_eq /tmp "$(readlink "/proc/$p/cwd")" "worker's cwd before a request"
	http "$BASE_URL/feat/cwd.php"
	assert_eq 200 "$HTTP_STATUS"
	# PHP itself changes to the script's directory for the request
	assert_contains "$HTTP_BODY" "getcwd=$WWW_ROOT/feat"
	assert_contains "$HTTP_BODY" "pid=$p"
	# and back afterwards
	assert_eq /tmp "$(readlink "/proc/$p/cwd")" "worker's cwd after a request"
}

# ------------------------------------------------------------------ opcache

@test "opcache is shared by the pool's workers" {
	require_php_ext opcache
	local -A seen=()
	local i pid hits prev=-1 cached body
	fpmd_conf 'pm.max_children = 2'
	fpmd_start
	nginx_start
	for i in $(seq 1 20); do
		http "$BASE_URL/feat/opcache.php"
		assert_eq 200 "$HTTP_STATUS"
		body=$HTTP_BODY
		assert_contains "$body" "enabled=true"
		[[ $body =~ pid=([0-9]+) ]] && pid=${BASH_REMATCH[1]}
		[[ $body =~ hits=([0-9-]+) ]] && hits=${BASH_REMATCH[1]}
		[[ $body =~ cached=([0-9-]+) ]] && cached=${BASH_REMATCH[1]}
		echo "request $i: pid $pid hits $hits cached $cached" >&2
		assert_eq 1 "$cached" "num_cached_scripts"
		# one counter for all workers: it grows whichever worker answers
		((hits > prev)) || fail "hits went from $prev to $hits (pid $pid)"
		prev=$hits
		seen[$pid]=1
		((${#seen[@]} >= 2 && i >= 6)) && break
	done
	((${#seen[@]} == 2)) || fail "only one worker answered: ${!seen[*]}"
}

@test "pm = dynamic: grows under load up to pm.max_children, counts reaching it, shrinks back to pm.max_spare_servers" {
	local i st
	fpmd_conf 'pm.max_children = 4' 'pm.start_servers = 1' \
		'pm.min_spare_servers = 1' 'pm.max_spare_servers = 2'
	sed -i 's/pm = static/pm = dynamic/' "$FPMD_CONF"
	fpmd_start
	nginx_start
	wait_until 5 nworkers_is 1 || fail "$(worker_pids | wc -l) workers at start, expected pm.start_servers = 1"
	# Eight 6-second requests at once: the pool grows by one a second
	# (one idle wanted) to its cap of 4, and stays there, busy, for a few
	# seconds: long enough to count reaching pm.max_children.
	for i in 1 2 3 4 5 6 7 8; do
		bg_get "r$i" "$BASE_URL/ctl/sleep.php?s=6"
	done
	wait_until 15 nworkers_is 4 || fail "$(worker_pids | wc -l) workers under load, expected 4"
	for i in 1 2 3 4 5 6 7 8; do
		bg_wait "r$i"
		assert_eq 200 "$BG_CODE" "status of request $i"
	done
	st=$(ctl --json status)
	[[ $(json 'd["pools"][0]["max_children_reached"]' <<<"$st") -ge 1 ]] ||
		fail "max_children_reached not counted: $st"
	assert_log_contains "server reached pm.max_children setting (4)"
	# Idle again: one worker a second goes until pm.max_spare_servers.
	wait_until 15 nworkers_is 2 || fail "$(worker_pids | wc -l) idle workers, expected 2"
	assert_eq dynamic "$(json 'd["pools"][0]["process_manager"]' <<<"$st")"
}

@test "pm = ondemand: no worker at start, one per waiting connection up to pm.max_children, idle ones stopped after pm.process_idle_timeout" {
	local i
	# The idle timeout is long enough for the check right after the first
	# request to see its worker on a slow (or ASan) run.
	fpmd_conf 'pm.max_children = 3' 'pm.process_idle_timeout = 6s'
	sed -i 's/pm = static/pm = ondemand/' "$FPMD_CONF"
	fpmd_start
	nginx_start
	nworkers_is 0 || fail "$(worker_pids | wc -l) workers at start, expected none"
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
	nworkers_is 1 || fail "$(worker_pids | wc -l) workers after one request, expected 1"
	for i in 1 2 3 4 5; do
		bg_get "r$i" "$BASE_URL/ctl/sleep.php?s=2"
	done
	wait_until 10 nworkers_is 3 || fail "$(worker_pids | wc -l) workers under load, expected 3"
	for i in 1 2 3 4 5; do
		bg_wait "r$i"
		assert_eq 200 "$BG_CODE" "status of request $i"
	done
	wait_until 15 nworkers_is 0 || fail "$(worker_pids | wc -l) workers left idle, expected none"
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
}

@test "request_terminate_timeout: a request running longer loses its worker, logged; the pool serves on" {
	local t0 t1
	fpmd_conf 'pm.max_children = 1' 'request_terminate_timeout = 1'
	fpmd_start
	nginx_start
	t0=$(now_ms)
	bg_get slow "$BASE_URL/ctl/sleep.php?s=6"
	bg_wait slow
	t1=$(now_ms)
	[[ $BG_CODE != 200 ]] || fail "the 6 s request was not ended"
	(((t1 - t0) < 4500)) || fail "it ended after $((t1 - t0)) ms, expected about 1-2 s"
	# php-fpm's words: the query after the path, microseconds
	grep -qE "WARNING: \[pool www\] child [0-9]+, script '[^']*/ctl/sleep.php' \(request: \"GET /ctl/sleep.php\?s=6\"\) execution timed out \([0-9]+\.[0-9]{6} sec\), terminating" "$FPMD_LOG" ||
		fail "$(grep 'timed out' "$FPMD_LOG")"
	wait_until 10 nworkers_is 1 || fail "no worker took its place"
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
}

# ------------------------------------------------------------- hardening

@test "process.dumpable: workers of a pool running as nobody are not dumpable by default, are with yes" {
	((EUID == 0)) || skip "needs root"
	local p
	fpmd_conf 'user = nobody' 'pm.max_children = 2'
	fpmd_start --no-R
	wait_until 5 nworkers_is 2
	# The kernel gives a non-dumpable process's /proc files to root.
	for p in $(worker_pids) $(prototype_pid); do
		assert_eq 0 "$(stat -c %u "/proc/$p/environ")" "owner of /proc/$p/environ (process.dumpable = no)"
	done
	fpmd_stop
	fpmd_conf 'user = nobody' 'pm.max_children = 2' 'process.dumpable = yes'
	fpmd_start --no-R
	wait_until 5 nworkers_is 2
	for p in $(worker_pids) $(prototype_pid); do
		assert_eq 65534 "$(stat -c %u "/proc/$p/environ")" "owner of /proc/$p/environ (process.dumpable = yes)"
	done
}

# fcgi_seq SOCK N SCRIPT: N FastCGI requests for SCRIPT one after another,
# each given 5 s; prints "ok=A slow=B" (slow: no full answer in time).
fcgi_seq() {
	"$PYTHON" - "$@" <<'PY'
import socket, struct, sys
sock, n, script = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def rec(t, rid, body):
    return struct.pack('>BBHHBB', 1, t, rid, len(body), 0, 0) + body
def pair(k, v):
    return bytes([len(k), len(v)]) + k + v
params = b''.join(pair(k.encode(), v.encode()) for k, v in [
    ('SCRIPT_FILENAME', script), ('REQUEST_METHOD', 'GET'),
    ('SCRIPT_NAME', '/x.php'), ('REQUEST_URI', '/x.php')])
req = (rec(1, 1, struct.pack('>HB5x', 1, 0)) + rec(4, 1, params) +
       rec(4, 1, b'') + rec(5, 1, b''))
ok = slow = 0
for i in range(n):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    try:
        s.connect(sock)
        s.sendall(req)
        data = b''
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        if b'\x01\x03\x00\x01' in data:
            ok += 1
        else:
            slow += 1
    except (socket.timeout, OSError):
        slow += 1
    s.close()
print('ok=%d slow=%d' % (ok, slow))
PY
}

@test "pm = ondemand with pm.max_requests: 300 requests one after another, none waits for the next connection" {
	fpmd_conf 'pm.max_children = 2' 'pm.max_requests = 2' 'pm.process_idle_timeout = 1s'
	sed -i 's/pm = static/pm = ondemand/' "$FPMD_CONF"
	fpmd_start
	run fcgi_seq "$FPMD_SOCK" 300 "$WWW_ROOT/ctl/ok.php"
	assert_eq "ok=300 slow=0" "$output" "sequential requests through recycled workers"
	run ! grep -F 'exited on signal' "$FPMD_LOG"
}

@test "a worker flooding the log: status still answers at once, the flood is counted when it overflows, nothing blocks" {
	local i rc
	# fastcgi.logging off: the lines go to fpmd's log only, not to nginx too
	fpmd_conf 'pm.max_children = 4' 'php_admin_flag {' '    fastcgi.logging = off' '}'
	fpmd_start
	nginx_start
	for i in 1 2 3; do
		bg_get "chatty$i" "$BASE_URL/ctl/chatty.php?n=50000&len=200"
	done
	wait_log "PHP message: chatty " 10
	# While three workers log as fast as they can, the master answers
	# every status request well inside fpmctl's deadline.
	for i in $(seq 1 20); do
		rc=0
		ctl --timeout 2 status >/dev/null || rc=$?
		assert_eq 0 "$rc" "status $i during the flood"
		sleep 0.05
	done
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
	for i in 1 2 3; do
		bg_wait "chatty$i"
		assert_eq 200 "$BG_CODE" "the chatty request $i: $(cat "$BATS_TEST_TMPDIR/chatty$i.err"; cat "$BATS_TEST_TMPDIR/chatty$i.body"; tail -3 "$BATS_TEST_TMPDIR/nginx/error.log")"
		assert_contains "$(cat "$BATS_TEST_TMPDIR/chatty$i.body")" "done 50000"
	done
	# Lines written and lines dropped add up to all of them.
	local written dropped
	written=$(grep -c 'PHP message: chatty ' "$FPMD_LOG")
	dropped=$(ctl --json status | json 'd["pools"][0]["log_lines_dropped"]')
	assert_eq 150000 "$((written + dropped))" "lines written ($written) + dropped ($dropped)"
	# and the log itself says how many it lost
	if ((dropped > 0)); then
		wait_log "lines of its processes dropped: fpmd's log could not keep up ($dropped in all, log_lines_dropped in fpmctl status)" 10
	fi
}

@test "pm = ondemand: the idle timeout stops the worker idle the longest, not one between keep-alive requests" {
	fpmd_conf 'pm.max_children = 2' 'pm.process_idle_timeout = 2s'
	sed -i 's/pm = static/pm = ondemand/' "$FPMD_CONF"
	fpmd_start
	run "$PYTHON" - "$FPMD_SOCK" "$WWW_ROOT/ctl" "$FPMD_CTL" "$FPMCTL" <<'PY'
import json, socket, struct, subprocess, sys, time
sock, www, ctl, fpmctl = sys.argv[1:5]
def rec(t, rid, body):
    return struct.pack('>BBHHBB', 1, t, rid, len(body), 0, 0) + body
def pair(k, v):
    return bytes([len(k), len(v)]) + k + v
def request(s, script, query=''):
    params = b''.join(pair(k.encode(), v.encode()) for k, v in [
        ('SCRIPT_FILENAME', www + '/' + script), ('REQUEST_METHOD', 'GET'),
        ('SCRIPT_NAME', '/' + script), ('REQUEST_URI', '/' + script),
        ('QUERY_STRING', query)])
    s.sendall(rec(1, 1, struct.pack('>HB5x', 1, 1)) + rec(4, 1, params) +
              rec(4, 1, b'') + rec(5, 1, b''))
    out = b''
    while b'\x01\x03\x00\x01' not in out:       # END_REQUEST
        d = s.recv(65536)
        if not d:
            raise EOFError('closed after %r' % out[-200:])
        out += d
    return out
def processes():
    r = subprocess.run([fpmctl, '-s', ctl, '--json', 'status', '--full'],
                       capture_output=True, check=True)
    return [p['pid'] for p in json.loads(r.stdout)['pools'][0]['processes']]
# Two keep-alive connections at once: two workers, in slots 0 and 1.
conns = [socket.socket(socket.AF_UNIX) for i in range(2)]
for c in conns:
    c.settimeout(10)
    c.connect(sock)
import threading
pids = [None, None]
def first(i):
    request(conns[i], 'sleep.php', 's=1&n=1')
ts = [threading.Thread(target=first, args=(i,)) for i in range(2)]
[t.start() for t in ts]; [t.join() for t in ts]
for i in range(2):
    out = request(conns[i], 'pid.php')
    pids[i] = int(out.split(b'\r\n\r\n', 1)[1].split(b'\n')[0])
slots = processes()
assert sorted(slots) == sorted(pids), (slots, pids)
# Keep the connection of the first slot's worker busy, leave the other.
busy = pids.index(slots[0])
conns[1 - busy].close()
t = time.monotonic()
while time.monotonic() - t < 5:
    try:
        request(conns[busy], 'ok.php')
    except (OSError, EOFError) as e:
        sys.exit('the keep-alive connection of worker %d was cut after '
                 '%.1f s (%s); workers now %s' % (slots[0],
                 time.monotonic() - t, e, processes()))
    time.sleep(0.2)
print('left', processes(), 'busy', slots[0], 'idle', slots[1])
PY
	[[ $status -eq 0 ]] || fail "$output"
	local busy idle
	busy=$(sed -n 's/.* busy \([0-9]*\) idle.*/\1/p' <<<"$output")
	idle=$(sed -n 's/.* idle \([0-9]*\)$/\1/p' <<<"$output")
	assert_contains "$output" "left [$busy] busy"
	! proc_alive "$idle" || fail "the idle worker $idle is still there"
}
