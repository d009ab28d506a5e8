#!/usr/bin/env bats
# The control socket, through fpmctl and raw: every command, every error
# reply and exit status, hostile clients, and who may connect.
# Reload and stop have their own file (reload.bats).

# FPMD_BIN and friends come from helper.bash, $stderr from `run
# --separate-stderr`; each @test is a subshell of its own.
# shellcheck disable=SC2030,SC2031,SC2119,SC2120,SC2153,SC2154

load helper
bats_require_minimum_version 1.5.0

# ------------------------------------------------------------ local helpers
# (candidates for t/helper.bash; reload.bats has the same ones)


# A raw client for py(): C() connects to the control socket (sys.argv[1]);
# c.send(bytes), c.line() (one reply line, EOFError if the connection
# closed first), c.req(obj or bytes) (send one line, return the reply
# parsed), c.closed() (true once fpmd has closed the connection).
PY_CTL='import json, os, socket, sys, time
SOCK = sys.argv[1]
class C:
    def __init__(self, timeout=10):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(SOCK)     # blocking: waits while the backlog is full
        self.s.settimeout(timeout)
        self.buf = b""
    def send(self, data):
        self.s.sendall(data)
    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError("closed; partial reply %r" % self.buf[:200])
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return l.decode()
    def req(self, r):
        if not isinstance(r, bytes):
            r = json.dumps(r).encode()
        self.send(r + b"\n")
        return json.loads(self.line())
    def closed(self):
        try:
            while True:
                d = self.s.recv(65536)
                if not d:
                    return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
def ping_ms():
    t = time.monotonic()
    c = C(timeout=5)
    r = c.req({"cmd": "ping"})
    assert r["ok"], r
    c.s.close()
    return (time.monotonic() - t) * 1000
'

# py SCRIPT [ARGS...]: run SCRIPT after $PY_CTL; sys.argv[1] is the control
# socket, ARGS follow.
py() {
	local script=$1
	shift
	"$PYTHON" -c "$PY_CTL"$'\n'"$script" "$FPMD_CTL" "$@"
}

# py_bg NAME SCRIPT [ARGS...]: py in the background (python itself is the
# background job, so that killing BG[NAME] closes its connections).
py_bg() {
	local name=$1 script=$2
	shift 2
	"$PYTHON" -c "$PY_CTL"$'\n'"$script" "$FPMD_CTL" "$@" 3>&- &
	BG[$name]=$!
}

# assert_line TEXT REGEX: some line of TEXT matches the extended REGEX.
assert_line() {
	grep -qE -- "$2" <<<"$1" && return 0
	printf 'expected a line matching: %s\n                     in: %s\n' "$2" "$1" >&2
	return 1
}


# nworkers [POOL]: how many workers `status --full` lists for POOL (www).
nworkers() {
	ctl --json status --full |
		json "len([p for q in d['pools'] if q['pool'] == '${1:-www}' for p in q['processes']])"
}

# pool_field FIELD: FIELD of the first pool in `status`.
pool_field() {
	ctl --json status | json "d['pools'][0]['$1']"
}

# as_nobody CMD...: run CMD as nobody, without any supplementary group.
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

# fpmd_start_errlog: fpmd_start for a config with error_log = $(t_tmp)/log/
# fpmd.log (fpmd_start waits for the ready line on stderr, which then stays
# empty). Sets FPMD_LOG to that file.
fpmd_start_errlog() {
	local dir
	dir=$(t_tmp)
	mkdir -p "$dir/log"
	sed -i "1i error_log = \"$dir/log/fpmd.log\"" "$FPMD_CONF"
	sed -i "1i control.socket = \"$dir/control.sock\"" "$FPMD_CONF"
	FPMD_CTL=$dir/control.sock
	export FPMD_CTL
	local -a args=()
	((EUID == 0)) && args+=(-R)
	_spawn "$dir/fpmd.out" "$FPMD_BIN" -c "$FPMD_CONF" "${args[@]}"
	FPMD_PID=$SPAWNED_PID
	FPMD_LOG=$dir/log/fpmd.log
	_wait_ready fpmd "$FPMD_PID" "$FPMD_LOG" || { FPMD_PID=; return 1; }
}

TEST_GROUP=
TEST_USER=

teardown() {
	teardown_stack
	if [[ -n $TEST_GROUP ]]; then
		groupdel "$TEST_GROUP" || true
	fi
	if [[ -n $TEST_USER ]]; then
		userdel "$TEST_USER" 2>/dev/null || true
		if getent group "$TEST_USER" >/dev/null; then
			groupdel "$TEST_USER" 2>/dev/null || true
		fi
	fi
}

# JSON replies are read, and raw clients written, in python3.
setup_file() {
	command -v "$PYTHON" >/dev/null 2>&1 || skip "python3 is not installed"
}

# ------------------------------------------------------------------ tests

@test "ping: version, PHP version, pid, uptime, generation; human and --json" {
	fpmd_conf
	fpmd_start
	run --separate-stderr ctl ping
	[[ $status -eq 0 ]] || fail "exit $status: $stderr"
	assert_match "$output" "^fpmd [0-9]+\.[0-9]+\.[0-9]+ \(PHP 8\.2\.[0-9]+\), pid $FPMD_PID, up [0-9]+ s"
	assert_eq "" "$stderr"

	run --separate-stderr ctl --json ping
	[[ $status -eq 0 ]]
	assert_eq 1 "$(wc -l <<<"$output")" "one line"
	assert_eq true "$(json 'd["ok"]' <<<"$output")"
	assert_eq 1 "$(json 'd["protocol"]' <<<"$output")"
	assert_eq "$FPMD_PID" "$(json 'd["pid"]' <<<"$output")"
	assert_eq 1 "$(json 'd["generation"]' <<<"$output")"
	assert_match "$(json 'd["version"]' <<<"$output")" '^[0-9]+\.[0-9]+\.[0-9]+'
	assert_match "$(json 'd["php"]' <<<"$output")" '^8\.2\.[0-9]+$'
	assert_match "$(json 'd["uptime"]' <<<"$output")" '^[0-9]+$'
	(($(json 'd["uptime"]' <<<"$output") < 60))

	# --json also after the command
	run --separate-stderr ctl ping --json
	[[ $status -eq 0 ]]
	assert_eq "$FPMD_PID" "$(json 'd["pid"]' <<<"$output")"

	# fpmctl's own version needs no daemon
	run "$FPMCTL" --version
	[[ $status -eq 0 ]]
	assert_match "$output" '[0-9]+\.[0-9]+\.[0-9]+'
}

@test "status: every php-fpm field with sane values; accepted conn grows with requests" {
	local now st i
	fpmd_conf
	fpmd_start
	nginx_start
	now=$(date +%s)
	st=$(ctl --json status)
	assert_eq true "$(json 'd["ok"]' <<<"$st")"
	assert_eq "$FPMD_PID" "$(json 'd["pid"]' <<<"$st")"
	assert_eq 1 "$(json 'd["generation"]' <<<"$st")"
	assert_eq running "$(json 'd["state"]' <<<"$st")"
	assert_eq 1 "$(json 'len(d["pools"])' <<<"$st")"
	assert_eq '[]' "$(json '[k for k in ["pool", "process_manager", "generation",
		"listen", "start_time", "start_since", "accepted_conn", "listen_queue",
		"max_listen_queue", "listen_queue_len", "idle_processes",
		"active_processes", "total_processes", "max_active_processes",
		"max_children_reached", "slow_requests", "max_children"]
		if k not in d["pools"][0]]' <<<"$st")" "missing pool members"
	assert_eq www "$(json 'd["pools"][0]["pool"]' <<<"$st")"
	assert_eq static "$(json 'd["pools"][0]["process_manager"]' <<<"$st")"
	assert_eq 1 "$(json 'd["pools"][0]["generation"]' <<<"$st")"
	assert_eq "$FPMD_SOCK" "$(json 'd["pools"][0]["listen"]' <<<"$st")"
	local t
	t=$(json 'd["pools"][0]["start_time"]' <<<"$st")
	((t <= now && t > now - 60)) || fail "start_time $t, now $now"
	t=$(json 'd["pools"][0]["start_since"]' <<<"$st")
	((t >= 0 && t < 60)) || fail "start_since $t"
	assert_eq 0 "$(json 'd["pools"][0]["accepted_conn"]' <<<"$st")" "accepted_conn before any request"
	assert_eq 0 "$(json 'd["pools"][0]["listen_queue"]' <<<"$st")"
	assert_eq 0 "$(json 'd["pools"][0]["max_listen_queue"]' <<<"$st")"
	assert_eq 511 "$(json 'd["pools"][0]["listen_queue_len"]' <<<"$st")"
	assert_eq 2 "$(json 'd["pools"][0]["idle_processes"]' <<<"$st")"
	assert_eq 0 "$(json 'd["pools"][0]["active_processes"]' <<<"$st")"
	assert_eq 2 "$(json 'd["pools"][0]["total_processes"]' <<<"$st")"
	assert_eq 0 "$(json 'd["pools"][0]["max_active_processes"]' <<<"$st")"
	assert_eq 0 "$(json 'd["pools"][0]["max_children_reached"]' <<<"$st")"
	assert_eq 0 "$(json 'd["pools"][0]["slow_requests"]' <<<"$st")"
	assert_eq 2 "$(json 'd["pools"][0]["max_children"]' <<<"$st")"
	assert_eq "" "$(json '"processes" in d["pools"][0] and "processes listed without full" or ""' <<<"$st")"

	for i in 1 2 3 4 5; do
		assert_body_equals "$BASE_URL/ctl/ok.php" ok
	done
	st=$(ctl --json status)
	assert_eq 5 "$(json 'd["pools"][0]["accepted_conn"]' <<<"$st")" "accepted_conn after 5 requests"
	# (a worker may still be ending its request just after the response)
	wait_until 5 count_is 2 pool_field idle_processes ||
		fail "idle_processes $(pool_field idle_processes) after the requests"
	# Busy workers are sampled once a second (as php-fpm does): a request
	# of 1.5 s is seen.
	bg_slow slow 1.5
	assert_full_body slow
	st=$(ctl --json status)
	assert_eq 6 "$(json 'd["pools"][0]["accepted_conn"]' <<<"$st")" "accepted_conn after 6 requests"
	assert_eq 1 "$(json 'd["pools"][0]["max_active_processes"]' <<<"$st")" "max_active_processes"
	wait_until 5 count_is 2 pool_field idle_processes

	# The human form has every field, with php-fpm's names.
	run --separate-stderr ctl status
	[[ $status -eq 0 ]]
	assert_contains "$output" "fpmd pid $FPMD_PID, generation 1, 1 pool"
	for f in 'pool:                 www' 'process manager:      static' \
		'generation:           1' "listen:               $FPMD_SOCK" \
		'start time:' 'start since:' 'accepted conn:        6' \
		'listen queue:         0' 'max listen queue:' 'listen queue len:     511' \
		'idle processes:       2' 'active processes:     0' \
		'total processes:      2' 'max active processes: 1' \
		'max children reached: 0' 'slow requests:        0' \
		'max children:         2'; do
		assert_contains "$output" "$f"
	done
	assert_not_contains "$output" "PID GEN STATE"
}

@test "status: the listen queue of a unix socket counts the connections waiting" {
	fpmd_conf
	fpmd_start
	nginx_start
	# Both workers busy, two more requests wait in the socket's queue.
	bg_slow s1 2.5
	bg_slow s2 2.5
	bg_get q1 "$BASE_URL/ctl/ok.php"
	bg_get q2 "$BASE_URL/ctl/ok.php"
	wait_until 10 count_is 2 pool_field listen_queue ||
		fail "listen_queue $(pool_field listen_queue), expected 2"
	assert_eq 0 "$(pool_field idle_processes)"
	assert_eq 2 "$(pool_field active_processes)"
	assert_full_body s1
	assert_full_body s2
	bg_wait q1
	assert_eq 200 "$BG_CODE"
	bg_wait q2
	assert_eq 200 "$BG_CODE"
	assert_eq 0 "$(pool_field listen_queue)"
	assert_eq 2 "$(pool_field max_listen_queue)"
	assert_eq 2 "$(pool_field max_active_processes)"
	assert_eq 4 "$(pool_field accepted_conn)"
}

@test "status --full: one entry per worker; a running request shows Running, its method and URI" {
	local st pids p
	fpmd_conf
	fpmd_start
	nginx_start
	st=$(ctl --json status --full)
	assert_eq 2 "$(json 'len(d["pools"][0]["processes"])' <<<"$st")" "workers listed"
	# They are this fpmd's live worker processes.
	pids=$(json '" ".join(sorted(str(p["pid"]) for p in d["pools"][0]["processes"]))' <<<"$st")
	assert_eq "$(worker_procs | sort | tr '\n' ' ' | sed 's/ $//')" "$pids" "pids in status vs processes"
	assert_eq '["Idle", "Idle"]' "$(json '[p["state"] for p in d["pools"][0]["processes"]]' <<<"$st")"
	assert_eq '[1, 1]' "$(json '[p["generation"] for p in d["pools"][0]["processes"]]' <<<"$st")"
	assert_eq '[]' "$(json '[k for p in d["pools"][0]["processes"] for k in ["pid",
		"generation", "state", "start_time", "start_since", "requests",
		"request_duration", "request_method", "request_uri", "content_length",
		"user", "script", "last_request_cpu", "last_request_memory"]
		if k not in p]' <<<"$st")" "missing worker members"

	bg_slow slow 2 "$BASE_URL" -X POST -d 'a=1'
	p=$(cat "$BATS_TEST_TMPDIR/slow.mark")
	st=$(ctl --json status --full)
	assert_eq Running "$(json "[p['state'] for p in d['pools'][0]['processes'] if p['pid'] == $p][0]" <<<"$st")"
	assert_eq POST "$(json "[p['request_method'] for p in d['pools'][0]['processes'] if p['pid'] == $p][0]" <<<"$st")"
	assert_eq "/ctl/sleep.php?s=2&mark=$BATS_TEST_TMPDIR/slow.mark" \
		"$(json "[p['request_uri'] for p in d['pools'][0]['processes'] if p['pid'] == $p][0]" <<<"$st")"
	assert_eq 3 "$(json "[p['content_length'] for p in d['pools'][0]['processes'] if p['pid'] == $p][0]" <<<"$st")"
	assert_eq "$WWW_ROOT/ctl/sleep.php" "$(json "[p['script'] for p in d['pools'][0]['processes'] if p['pid'] == $p][0]" <<<"$st")"
	assert_eq 1 "$(json 'd["pools"][0]["active_processes"]' <<<"$st")"
	assert_eq 1 "$(json 'd["pools"][0]["idle_processes"]' <<<"$st")"

	# The table: one row per worker, the busy one Running with POST and the URI.
	run --separate-stderr ctl status --full
	[[ $status -eq 0 ]]
	assert_line "$output" "^ *$p +1 Running +[0-9]+ .* POST +/ctl/sleep\.php"
	assert_eq 2 "$(grep -cE '^ *[0-9]+ +1 (Idle|Running) ' <<<"$output")" "table rows"
	while IFS= read -r line; do
		((${#line} <= 80)) || fail "line longer than 80 columns: $line"
	done <<<"$output"

	assert_full_body slow
	wait_until 5 count_is Idle eval "ctl --json status --full | json \"[p['state'] for p in d['pools'][0]['processes'] if p['pid'] == $p][0]\"" ||
		fail "worker $p not Idle after its request"
	st=$(ctl --json status --full)
	assert_eq 1 "$(json "[p['requests'] for p in d['pools'][0]['processes'] if p['pid'] == $p][0]" <<<"$st")"
	local dur
	dur=$(json "[p['request_duration'] for p in d['pools'][0]['processes'] if p['pid'] == $p][0]" <<<"$st")
	((dur >= 1900000 && dur < 10000000)) || fail "request_duration $dur us for a 2 s request"
}

@test "--json: stdout is one valid JSON object, replies and refusals alike, nothing on stderr" {
	fpmd_conf
	fpmd_start
	local c
	for c in ping status "status --full" config; do
		# shellcheck disable=SC2086
		run --separate-stderr ctl --json $c
		[[ $status -eq 0 ]] || fail "$c: exit $status"
		assert_eq 1 "$(wc -l <<<"$output")" "$c: lines"
		assert_eq true "$(json 'd["ok"]' <<<"$output")" "$c"
		assert_eq "" "$stderr" "$c: stderr"
	done
	run --separate-stderr ctl --json scale nope 2
	[[ $status -eq 1 ]]
	assert_eq false "$(json 'd["ok"]' <<<"$output")"
	assert_eq unknown_pool "$(json 'd["error"]["code"]' <<<"$output")"
	assert_eq "" "$stderr" "stderr of a refusal with --json"
}

@test "config: the effective configuration, not the file on disk" {
	fpmd_conf
	fpmd_start
	run --separate-stderr ctl config
	[[ $status -eq 0 ]]
	assert_line "$output" "^pools\.www\.name += +www$"
	assert_line "$output" "^pools\.www\.listen += +$FPMD_SOCK$"
	assert_line "$output" "^pools\.www\.pm\.max_children += +2$"
	assert_line "$output" "^pools\.www\.pm += +static$"
	assert_line "$output" "^control\.socket += +$FPMD_CTL$"
	assert_line "$output" "^error_log += +null$"

	run --separate-stderr ctl --json config
	[[ $status -eq 0 ]]
	assert_eq www "$(json 'd["config"]["pools"][0]["name"]' <<<"$output")"
	assert_eq "$FPMD_SOCK" "$(json 'd["config"]["pools"][0]["listen"]' <<<"$output")"
	assert_eq 2 "$(json 'd["config"]["pools"][0]["pm.max_children"]' <<<"$output")"
	assert_eq "$FPMD_CONF" "$(json 'd["config"]["file"]' <<<"$output")"
	assert_eq "$FPMD_CTL" "$(json 'd["config"]["control.socket"]' <<<"$output")"
	# The file changes, fpmd does not until a reload.
	sed -i 's/pm.max_children = 2/pm.max_children = 5/' "$FPMD_CONF"
	run --separate-stderr ctl --json config
	assert_eq 2 "$(json 'd["config"]["pools"][0]["pm.max_children"]' <<<"$output")"
	# Every option, defaults included (docs/config.md's tables).
	assert_eq '[]' "$(json '[k for k in ["log_level", "error_log", "php_ini",
		"php_ini_scan_dir", "process_control_timeout", "process.max",
		"rlimit_files", "rlimit_core", "control.socket", "control.mode",
		"control.owner", "control.group"] if k not in d["config"]]' <<<"$output")" \
		"global options missing from config"
	assert_eq '[]' "$(json '[k for k in """listen listen.backlog listen.owner
		listen.group listen.mode listen.allowed_clients pm pm.max_children
		pm.start_servers pm.min_spare_servers pm.max_spare_servers
		pm.max_spawn_rate pm.process_idle_timeout pm.max_requests user group
		chdir chroot clear_env env php_ini php_ini_scan_dir php_value php_flag
		php_admin_value php_admin_flag php_value_params
		security.limit_extensions catch_workers_output decorate_workers_output
		process.dumpable rlimit_files rlimit_core
		request_terminate_timeout""".split() if k not in d["config"]["pools"][0]]' <<<"$output")" \
		"pool options missing from config"
}

@test "scale up and down: workers follow; a request in flight during scale down completes" {
	fpmd_conf
	fpmd_start
	nginx_start
	run --separate-stderr ctl scale www 4
	[[ $status -eq 0 ]] || fail "exit $status: $stderr"
	assert_eq "pool www: max_children 2 -> 4" "$output"
	wait_until 10 count_is 4 nworkers || fail "status --full lists $(nworkers) workers, expected 4"
	wait_until 10 count_is 4 eval 'worker_procs | wc -l' ||
		fail "$(worker_procs | wc -l) worker processes, expected 4"
	st=$(ctl --json status)
	assert_eq 4 "$(json 'd["pools"][0]["max_children"]' <<<"$st")"
	assert_eq 4 "$(json 'd["pools"][0]["total_processes"]' <<<"$st")"

	# Down to 1 while a 3 s request runs.
	bg_slow slow 3
	run --separate-stderr ctl --json scale www 1
	[[ $status -eq 0 ]]
	assert_eq 1 "$(json 'd["max_children"]' <<<"$output")"
	assert_eq 4 "$(json 'd["previous"]' <<<"$output")"
	assert_full_body slow
	wait_until 10 count_is 1 nworkers || fail "status --full lists $(nworkers) workers, expected 1"
	wait_until 10 count_is 1 eval 'worker_procs | wc -l' ||
		fail "$(worker_procs | wc -l) worker processes, expected 1"
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
	assert_log_contains "scaled from 4 to 1"
}

@test "scale refusals: unknown pool, 0, beyond process.max, mistyped arguments" {
	fpmd_conf
	sed -i '1i process.max = 4' "$FPMD_CONF"
	fpmd_start
	run --separate-stderr ctl scale nope 3
	assert_eq 1 "$status" "exit status"
	assert_eq "" "$output"
	assert_contains "$stderr" "fpmctl: scale: no pool named 'nope' (unknown_pool)"
	assert_contains "$stderr" "hint:"

	run --separate-stderr ctl scale www 0
	assert_eq 1 "$status" "exit status of scale www 0"
	assert_contains "$stderr" "(invalid_argument)"

	run --separate-stderr ctl scale www 5
	assert_eq 1 "$status" "exit status of scale beyond process.max"
	assert_contains "$stderr" "(invalid_argument)"

	run py '
c = C()
for r in [{"cmd": "scale", "pool": "www"},
          {"cmd": "scale", "max_children": 2},
          {"cmd": "scale", "pool": "www", "max_children": "3"},
          {"cmd": "scale", "pool": "www", "max_children": -1},
          {"cmd": "scale", "pool": "www", "max_children": 1.5},
          {"cmd": "scale", "pool": 7, "max_children": 2}]:
    print(c.req(r)["error"]["code"])
print(c.req({"cmd": "scale", "pool": "x", "max_children": 2})["error"]["code"])
'
	[[ $status -eq 0 ]] || fail "$output"
	assert_eq "invalid_argument
invalid_argument
invalid_argument
invalid_argument
invalid_argument
invalid_argument
unknown_pool" "$output"
	# Nothing changed.
	assert_eq 2 "$(nworkers)"
}

@test "stop refusals: a timeout out of range or a mistyped argument stops nothing" {
	fpmd_conf
	fpmd_start
	# 86400 is the most: fpmctl refuses more itself (2) or passes fpmd's
	# refusal on (1); either way fpmd keeps running.
	run --separate-stderr ctl stop --timeout 86401
	[[ $status -eq 1 || $status -eq 2 ]] || fail "exit status $status ($stderr)"
	proc_alive "$FPMD_PID" || fail "fpmd stopped"
	run py '
c = C()
# (a boolean of the wrong type last: taken for anything, it stops fpmd)
for r in [{"cmd": "stop", "timeout": -1}, {"cmd": "stop", "timeout": 86401},
          {"cmd": "stop", "timeout": "1"}, {"cmd": "status", "full": 1},
          {"cmd": "reload", "wait": "no"}, {"cmd": "stop", "now": "yes"}]:
    r = c.req(r)
    print(r["error"]["code"] if not r["ok"] else "accepted: " + json.dumps(r))
'
	[[ $status -eq 0 ]] || fail "$output"
	assert_eq "invalid_argument
invalid_argument
invalid_argument
invalid_argument
invalid_argument
invalid_argument" "$output"
	proc_alive "$FPMD_PID" || fail "fpmd stopped"
	run --separate-stderr ctl ping
	[[ $status -eq 0 ]]
	assert_eq 1 "$(ctl --json ping | json 'd["generation"]')" "generation"
}

@test "usage errors exit 2 with a message, without talking to fpmd" {
	local dir=$BATS_TEST_TMPDIR long
	# No daemon: a usage error must not need one.
	FPMD_CTL=$dir/none.sock
	local -a cases=(
		""
		"frob"
		"scale"
		"scale www"
		"scale www x"
		"scale www 2 3"
		"status --bogus"
		"--bogus ping"
		"--timeout abc ping"
		"stop --timeout abc"
		"reload --bogus"
		"ping extra"
	)
	local c
	for c in "${cases[@]}"; do
		# shellcheck disable=SC2086
		run --separate-stderr ctl $c
		assert_eq 2 "$status" "exit status of 'fpmctl $c' (stderr: $stderr)"
		assert_eq "" "$output" "stdout of 'fpmctl $c'"
		assert_contains "$stderr" "fpmctl"
	done
	long=/tmp/$(printf 'x%.0s' {1..120}).sock
	run --separate-stderr "$FPMCTL" -s "$long" ping
	assert_eq 2 "$status" "exit status with a socket path of ${#long} bytes"
	run --separate-stderr "$FPMCTL" -c "$dir/no-such.conf" ping
	assert_eq 2 "$status" "exit status with a missing -c CONFIG"
	# (fpmctl reads CONFIG for control.socket only: cut short, not a wrong value)
	printf 'log_level = notice\npool www {\n  pm = static\n' >"$dir/bad.conf"
	run --separate-stderr "$FPMCTL" -c "$dir/bad.conf" ping
	assert_eq 2 "$status" "exit status with a -c CONFIG that has errors"
	assert_contains "$stderr" "$dir/bad.conf:2:"

	# help needs no daemon either.
	run --separate-stderr "$FPMCTL" help
	[[ $status -eq 0 ]]
	assert_contains "$output" "scale"
	run --separate-stderr "$FPMCTL" scale --help
	[[ $status -eq 0 ]]
	assert_contains "$output" "scale"
}

@test "unreachable: exit 3 naming the socket and where it came from" {
	local dir=$BATS_TEST_TMPDIR
	run --separate-stderr "$FPMCTL" -s "$dir/none.sock" ping
	assert_eq 3 "$status"
	assert_contains "$stderr" "$dir/none.sock"
	assert_contains "$stderr" "given with -s"
	assert_eq "" "$output"

	FPMCTL_SOCKET=$dir/env.sock run --separate-stderr "$FPMCTL" status
	assert_eq 3 "$status"
	assert_contains "$stderr" "$dir/env.sock"
	assert_contains "$stderr" 'FPMCTL_SOCKET'

	printf 'control.socket = "%s"\npool www {\n listen = "%s"\n pm = static\n pm.max_children = 1\n}\n' \
		"$dir/conf.sock" "$dir/www.sock" >"$dir/c.conf"
	run --separate-stderr "$FPMCTL" -c "$dir/c.conf" ping
	assert_eq 3 "$status" "($stderr)"
	assert_contains "$stderr" "$dir/conf.sock"

	# A stale socket file: nobody listens.
	"$PYTHON" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$dir/stale.sock"
	[[ -S $dir/stale.sock ]]
	run --separate-stderr "$FPMCTL" -s "$dir/stale.sock" ping
	assert_eq 3 "$status"
	assert_contains "$stderr" "$dir/stale.sock"

	# A server that accepts and never answers: --timeout bounds the wait;
	# one that closes without a reply; one that answers garbage (exit 1).
	local mode t0 t1
	for mode in silent close garbage; do
		rm -f "$dir/fake.sock" "$dir/fake.ready"
		"$PYTHON" -c 'import socket, sys, time
mode = sys.argv[2]
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(5)
open(sys.argv[3], "w").close()
s.settimeout(20)
c, _ = s.accept()
c.recv(65536)
if mode == "silent":
    time.sleep(10)
elif mode == "garbage":
    c.sendall(b"hello there\n")
    time.sleep(1)
c.close()' "$dir/fake.sock" "$mode" "$dir/fake.ready" 3>&- &
		BG[fake]=$!
		wait_until 10 test -e "$dir/fake.ready"
		t0=$(now_ms)
		run --separate-stderr "$FPMCTL" -s "$dir/fake.sock" --timeout 1 ping
		t1=$(now_ms)
		case $mode in
		silent)
			assert_eq 3 "$status" "exit status, server never answers ($stderr)"
			(((t1 - t0) < 5000)) || fail "--timeout 1 took $((t1 - t0)) ms"
			;;
		close) assert_eq 3 "$status" "exit status, server closes without a reply ($stderr)" ;;
		garbage) assert_eq 1 "$status" "exit status, server answers not JSON ($stderr)" ;;
		esac
		kill "${BG[fake]}" 2>/dev/null || true
		wait "${BG[fake]}" 2>/dev/null || true
		unset "BG[fake]"
	done
}

@test "reopen-logs: after a rename, new lines land in the new file; SIGUSR1 too; reopen_failed" {
	local dir=$BATS_TEST_TMPDIR
	fpmd_conf
	fpmd_start_errlog
	mv "$dir/log/fpmd.log" "$dir/log/fpmd.log.1"
	run --separate-stderr ctl reopen-logs
	[[ $status -eq 0 ]] || fail "exit $status: $stderr"
	assert_eq "logs reopened" "$output"
	[[ -f $dir/log/fpmd.log ]] || fail "no new log file after reopen-logs"
	# The new file opens with the line SIGUSR1 writes too: whoever reads
	# it sees why it starts there.
	wait_log "NOTICE: error log file re-opened" 10 "$dir/log/fpmd.log"
	run ! grep -F "re-opened" "$dir/log/fpmd.log.1"
	# Something to log: a scale.
	ctl scale www 3 >/dev/null
	wait_log "scaled from 2 to 3" 10 "$dir/log/fpmd.log"
	run ! grep -F "scaled from 2 to 3" "$dir/log/fpmd.log.1"

	mv "$dir/log/fpmd.log" "$dir/log/fpmd.log.2"
	kill -USR1 "$FPMD_PID"
	wait_until 10 test -f "$dir/log/fpmd.log" || fail "SIGUSR1 did not reopen the log"
	wait_log "NOTICE: error log file re-opened" 10 "$dir/log/fpmd.log"
	ctl scale www 2 >/dev/null
	wait_log "scaled from 3 to 2" 10 "$dir/log/fpmd.log"
	run ! grep -F "scaled from 3 to 2" "$dir/log/fpmd.log.2"

	# The log's directory is gone: reopen fails, fpmd keeps the file it had.
	mv "$dir/log" "$dir/log.old"
	run --separate-stderr ctl reopen-logs
	assert_eq 1 "$status" "exit status when the log cannot be reopened"
	assert_contains "$stderr" "(reopen_failed)"
	ctl scale www 3 >/dev/null
	wait_log "scaled from 2 to 3" 10 "$dir/log.old/fpmd.log"
	mv "$dir/log.old" "$dir/log"
}

@test "reopen-logs and SIGUSR1 with log_format = json: the new file opens with the same JSON re-opened line" {
	local dir=$BATS_TEST_TMPDIR
	fpmd_conf
	sed -i '1i log_format = json' "$FPMD_CONF"
	fpmd_start_errlog
	mv "$dir/log/fpmd.log" "$dir/log/fpmd.log.1"
	run --separate-stderr ctl reopen-logs
	[[ $status -eq 0 ]] || fail "exit $status: $stderr"
	wait_log "error log file re-opened" 10 "$dir/log/fpmd.log"
	mv "$dir/log/fpmd.log" "$dir/log/fpmd.log.2"
	kill -USR1 "$FPMD_PID"
	wait_until 10 test -f "$dir/log/fpmd.log" || fail "SIGUSR1 did not reopen the log"
	wait_log "error log file re-opened" 10 "$dir/log/fpmd.log"
	# each new file: JSON objects only, the first of them the same line
	run "$PYTHON" - "$dir/log/fpmd.log.2" "$dir/log/fpmd.log" <<'PY'
import json, sys
for path in sys.argv[1:]:
    recs = [json.loads(l) for l in open(path)]
    first = recs[0]
    assert first['level'] == 'NOTICE', (path, first)
    assert first['message'] == 'error log file re-opened', (path, first)
    assert set(first) >= {'time', 'level', 'pid', 'message'}, (path, first)
PY
	assert_eq 0 "$status" "$output"
}

@test "raw: invalid JSON gets bad_request and the connection still answers" {
	fpmd_conf
	fpmd_start
	run py '
c = C()
for line in [b"hello", b"[1]", b"{\"id\":1}", b"{\"cmd\":7}",
             b"{\"cmd\":\"ping\",\"cmd\":\"ping\"}", b"{\"cmd\":\"ping\"", b"\xff\xfe"]:
    c.send(line + b"\n")
    print(c.line())
# blank lines are ignored; CRLF is accepted
c.send(b"\n\r\n{\"cmd\":\"ping\",\"id\":\"after\"}\r\n")
print(c.line())
'
	[[ $status -eq 0 ]] || fail "$output"
	local -a l
	mapfile -t l <<<"$output"
	assert_eq 8 "${#l[@]}" "replies"
	local i
	for i in 0 1 2 3 4 5 6; do
		assert_eq bad_request "$(json 'd["error"]["code"]' <<<"${l[i]}")" "reply $i: ${l[i]}"
		assert_eq false "$(json 'd["ok"]' <<<"${l[i]}")"
		assert_match "$(json 'd["error"]["message"]' <<<"${l[i]}")" '.'
	done
	assert_eq 1 "$(json 'd["id"]' <<<"${l[2]}")" "id echoed on a request without cmd"
	assert_eq true "$(json 'd["ok"]' <<<"${l[7]}")"
	assert_eq after "$(json 'd["id"]' <<<"${l[7]}")"
	assert_eq "$FPMD_PID" "$(json 'd["pid"]' <<<"${l[7]}")"
}

@test "raw: unknown_command with the id echoed; several requests on one connection, in order" {
	fpmd_conf
	fpmd_start
	run py '
c = C()
print(json.dumps(c.req({"cmd": "frob", "id": {"a": [1, 2]}})))
print(json.dumps(c.req({"cmd": "frob", "id": 42})))
# pipelined: replies come in order
c.send(b"{\"cmd\":\"ping\",\"id\":1}\n{\"cmd\":\"nope\",\"id\":2}\n{\"cmd\":\"status\",\"id\":3}\n")
for i in range(3):
    print(c.line())
'
	[[ $status -eq 0 ]] || fail "$output"
	local -a l
	mapfile -t l <<<"$output"
	assert_eq unknown_command "$(json 'd["error"]["code"]' <<<"${l[0]}")"
	assert_contains "$(json 'd["error"]["message"]' <<<"${l[0]}")" "frob"
	assert_eq '{"a": [1, 2]}' "$(json 'd["id"]' <<<"${l[0]}")"
	assert_eq 42 "$(json 'd["id"]' <<<"${l[1]}")"
	assert_eq '[1, true]' "$(json '[d["id"], d["ok"]]' <<<"${l[2]}")"
	assert_eq '[2, "unknown_command"]' "$(json '[d["id"], d["error"]["code"]]' <<<"${l[3]}")"
	assert_eq '[3, true]' "$(json '[d["id"], d["ok"]]' <<<"${l[4]}")"

	run --separate-stderr ctl frob
	assert_eq 2 "$status" "fpmctl frob is a usage error"
}

@test "raw: a line over 64 KiB gets line_too_long and the connection is closed" {
	fpmd_conf
	fpmd_start
	run py '
# exactly 65536 bytes: accepted
head = b"{\"cmd\":\"ping\",\"id\":\"max\",\"pad\":\""
r = head + b"x" * (65536 - len(head) - 2) + b"\"}"
assert len(r) == 65536
c = C()
print(json.dumps(c.req(r)))
c = C()
c.send(b"x" * 70 * 1024 + b"\n")
print(c.line())
print("closed" if c.closed() else "still open")
print("ping %.0f ms" % ping_ms())
'
	[[ $status -eq 0 ]] || fail "$output"
	local -a l
	mapfile -t l <<<"$output"
	assert_eq '[true, "max"]' "$(json '[d["ok"], d["id"]]' <<<"${l[0]}")" "a 65536-byte request"
	assert_eq line_too_long "$(json 'd["error"]["code"]' <<<"${l[1]}")"
	assert_eq closed "${l[2]}"
	assert_match "${l[3]}" '^ping [0-9]+ ms$'
}

@test "a client that sends nothing, or half a line, does not hold fpmd up" {
	local dir=$BATS_TEST_TMPDIR t0 t1
	fpmd_conf
	fpmd_start
	nginx_start
	# Two clients stay connected, one silent and one with half a line sent,
	# until the test has been served; then each finishes its request on
	# the same connection and prints the replies.
	py_bg held '
c1 = C(); c2 = C()
c2.send(b"{\"cmd\":\"sta")
open(sys.argv[2], "w").close()
deadline = time.monotonic() + 60
while not os.path.exists(sys.argv[3]):
    if time.monotonic() > deadline:
        sys.exit("never told to go on")
    time.sleep(0.05)
c2.send(b"tus\"}\n")
r2 = json.loads(c2.line())
r1 = c1.req({"cmd": "ping"})
with open(sys.argv[4], "w") as f:
    print(r1.get("ok"), r2.get("ok"), len(r2.get("pools", [])), file=f)
' "$dir/held" "$dir/go" "$dir/replies"
	wait_until 10 test -e "$dir/held"
	t0=$(now_ms)
	run --separate-stderr ctl --timeout 5 ping
	t1=$(now_ms)
	[[ $status -eq 0 ]] || fail "ping: exit $status: $stderr"
	(((t1 - t0) < 1000)) || fail "ping took $((t1 - t0)) ms with an idle client connected"
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
	run --separate-stderr ctl --timeout 5 status
	[[ $status -eq 0 ]]
	# The held clients were kept (not the 30 s idle limit yet), the half
	# line too: both are answered on their own connections now.
	touch "$dir/go"
	wait "${BG[held]}" || fail "the held clients failed (exit $?)"
	unset "BG[held]"
	assert_eq "True True 1" "$(cat "$dir/replies")" "replies to the held clients (ping ok, status ok, pools)"
}

@test "a client that sends status requests and never reads is dropped; ping still answers" {
	fpmd_conf
	fpmd_start
	run py '
c = C(timeout=1)
req = b"{\"cmd\":\"status\",\"full\":true}\n" * 100
sent = 0
worst = 0.0
dropped = None
deadline = time.monotonic() + 15
while dropped is None and time.monotonic() < deadline:
    try:
        c.s.sendall(req)
        sent += 100
    except socket.timeout:
        pass          # fpmd does not read us (for now)
    except (BrokenPipeError, ConnectionResetError) as e:
        dropped = type(e).__name__
    worst = max(worst, ping_ms())
if dropped is None:
    # fpmd stopped reading; did it close? The replies it queued, then EOF.
    c.s.settimeout(5)
    n = 0
    try:
        while True:
            d = c.s.recv(1 << 20)
            if not d:
                dropped = "EOF after %d bytes of replies" % n
                break
            n += len(d)
    except socket.timeout:
        pass
    except ConnectionResetError:
        dropped = "reset"
print("sent", sent)
print("dropped", dropped)
print("worst ping %.0f ms" % worst)
print("ping after %.0f ms" % ping_ms())
'
	echo "# $(tr '\n' ' ' <<<"$output")" >&3
	[[ $status -eq 0 ]] || fail "$output"
	assert_not_contains "$output" "dropped None"
	local worst
	worst=$(sed -n 's/^worst ping \([0-9]*\) ms/\1/p' <<<"$output")
	((worst < 1000)) || fail "a ping took $worst ms while the flood ran"
	run --separate-stderr ctl ping
	[[ $status -eq 0 ]]
}

@test "200 clients at once each get their reply; PHP still serves" {
	fpmd_conf
	fpmd_start
	nginx_start
	run py '
cs = [C(timeout=20) for i in range(200)]
for i, c in enumerate(cs):
    c.send(json.dumps({"cmd": "status" if i % 2 else "ping", "id": i}).encode() + b"\n")
ok = 0
for i, c in enumerate(cs):
    r = json.loads(c.line())
    if r.get("ok") and r.get("id") == i:
        ok += 1
    else:
        print("client", i, "got", r)
print("ok", ok)
'
	[[ $status -eq 0 ]] || fail "$output"
	assert_eq "ok 200" "$output"

	# The same with 200 fpmctl processes started together.
	local i dir=$BATS_TEST_TMPDIR/many
	mkdir -p "$dir"
	local -a pids=()
	for i in $(seq 200); do
		"$FPMCTL" -s "$FPMD_CTL" --timeout 30 --json ping >"$dir/$i.out" 2>"$dir/$i.err" 3>&- &
		pids+=($!)
	done
	local bad=0 p
	for p in "${pids[@]}"; do
		wait "$p" || bad=$((bad + 1))
	done
	assert_eq 0 "$bad" "fpmctl processes that failed: $(cat "$dir"/*.err | sort | uniq -c)"
	assert_eq 200 "$(grep -l '"ok":true' "$dir"/*.out | wc -l)"
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
}

@test "more than 256 clients: the extra ones get busy, and are served once others leave" {
	local dir=$BATS_TEST_TMPDIR
	fpmd_conf
	fpmd_start
	py_bg held '
cs = [C() for i in range(256)]
for c in cs:      # every one accepted and answered: they are all counted
    assert c.req({"cmd": "ping"})["ok"]
open(sys.argv[2], "w").close()
time.sleep(60)' "$dir/held"
	wait_until 20 test -e "$dir/held" || fail "256 clients did not all connect"
	run --separate-stderr ctl ping
	assert_eq 1 "$status" "exit status of the 257th client"
	assert_contains "$stderr" "(busy)"
	kill "${BG[held]}"
	wait "${BG[held]}" 2>/dev/null || true
	unset "BG[held]"
	wait_until 10 ctl ping >/dev/null 2>&1 || fail "ping still refused after the clients left"
}

@test "permission: another user gets permission_denied (mode 0666), or cannot connect (0660)" {
	((EUID == 0)) || skip "needs root to run a client as another user"
	command -v setpriv >/dev/null || skip "setpriv is not installed"
	local dir=$BATS_TEST_TMPDIR
	fpmd_conf
	sed -i '1i control.mode = 0666' "$FPMD_CONF"
	fpmd_start
	open_path "$dir"
	cp "$FPMCTL" "$dir/fpmctl"
	chmod 755 "$dir/fpmctl"
	assert_eq 666 "$(stat -c %a "$FPMD_CTL")" "mode of the control socket"
	run --separate-stderr as_nobody "$dir/fpmctl" -s "$FPMD_CTL" ping
	assert_eq 1 "$status" "exit status as nobody ($stderr)"
	assert_contains "$stderr" "(permission_denied)"
	assert_contains "$stderr" "uid 65534"
	run --separate-stderr as_nobody "$dir/fpmctl" -s "$FPMD_CTL" --json status
	assert_eq 1 "$status"
	assert_eq permission_denied "$(json 'd["error"]["code"]' <<<"$output")"
	assert_log_contains "refused uid 65534"
	# root still may
	run --separate-stderr ctl ping
	[[ $status -eq 0 ]]
	teardown_stack

	# Default mode 0660, owned by root: connect() fails, exit 3.
	rm -f "$FPMD_CONF"
	fpmd_conf
	fpmd_start
	assert_eq 660 "$(stat -c %a "$FPMD_CTL")" "default mode of the control socket"
	run --separate-stderr as_nobody "$dir/fpmctl" -s "$FPMD_CTL" ping
	assert_eq 3 "$status" "exit status as nobody on a 0660 socket ($stderr)"
	assert_contains "$stderr" "$FPMD_CTL"
}

@test "permission: members of control.group may control fpmd" {
	((EUID == 0)) || skip "needs root to add a group and run as another user"
	command -v setpriv >/dev/null || skip "setpriv is not installed"
	command -v groupadd >/dev/null || skip "groupadd is not installed"
	local dir=$BATS_TEST_TMPDIR g
	g=fpmdt$$
	getent group "$g" >/dev/null && skip "group $g exists already"
	groupadd -U nobody "$g" || skip "cannot add a group"
	TEST_GROUP=$g
	fpmd_conf
	sed -i "1i control.group = $g" "$FPMD_CONF"
	fpmd_start
	open_path "$dir"
	cp "$FPMCTL" "$dir/fpmctl"
	chmod 755 "$dir/fpmctl"
	assert_eq "660 $g" "$(stat -c '%a %G' "$FPMD_CTL")" "mode and group of the control socket"
	run --separate-stderr setpriv --reuid=nobody --regid=nogroup --init-groups \
		"$dir/fpmctl" -s "$FPMD_CTL" ping
	assert_eq 0 "$status" "exit status as nobody, member of $g ($stderr)"
	assert_contains "$output" "pid $FPMD_PID"
	run --separate-stderr setpriv --reuid=nobody --regid=nogroup --init-groups \
		"$dir/fpmctl" -s "$FPMD_CTL" --json status
	assert_eq 0 "$status"
	assert_eq true "$(json 'd["ok"]' <<<"$output")"
	# The group as the primary group counts too.
	run --separate-stderr setpriv --reuid=nobody --regid="$g" --clear-groups \
		"$dir/fpmctl" -s "$FPMD_CTL" ping
	assert_eq 0 "$status" "exit status as nobody with primary group $g ($stderr)"
}

@test "permission: control.owner may control fpmd, others get permission_denied; a reload moves it" {
	((EUID == 0)) || skip "needs root to add a user and run as another user"
	command -v setpriv >/dev/null || skip "setpriv is not installed"
	command -v useradd >/dev/null || skip "useradd is not installed"
	local dir=$BATS_TEST_TMPDIR u
	u=fpmdown$$
	getent passwd "$u" >/dev/null && skip "user $u exists already"
	useradd -M -U -r -s /usr/sbin/nologin "$u" || skip "cannot add a user"
	TEST_USER=$u
	fpmd_conf
	# 0666: the file lets everyone connect, so fpmd's own check decides
	sed -i -e '1i control.owner = nobody' -e '1i control.mode = 0666' \
		"$FPMD_CONF"
	fpmd_start
	open_path "$dir"
	cp "$FPMCTL" "$dir/fpmctl"
	chmod 755 "$dir/fpmctl"
	assert_eq "666 nobody" "$(stat -c '%a %U' "$FPMD_CTL")" "mode and owner of the control socket"
	run --separate-stderr as_nobody "$dir/fpmctl" -s "$FPMD_CTL" ping
	assert_eq 0 "$status" "exit status as nobody, control.owner ($stderr)"
	assert_contains "$output" "pid $FPMD_PID"
	run --separate-stderr setpriv --reuid="$u" --regid="$u" --clear-groups \
		"$dir/fpmctl" -s "$FPMD_CTL" --json ping
	assert_eq 1 "$status" "exit status as $u ($stderr)"
	assert_eq permission_denied "$(json 'd["error"]["code"]' <<<"$output")"
	assert_contains "$(json 'd["error"]["message"]' <<<"$output")" \
		"uid $(id -u "$u") may not control fpmd: it is neither root, fpmd's user, control.owner nor in control.group"
	wait_log "WARNING: control: refused uid $(id -u "$u") pid "
	# a reload gives the socket to $u: now $u may, and nobody may not
	sed -i "s/^control.owner = nobody/control.owner = $u/" "$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "$stderr"
	assert_eq "$u" "$(stat -c '%U' "$FPMD_CTL")" "owner after the reload"
	run --separate-stderr setpriv --reuid="$u" --regid="$u" --clear-groups \
		"$dir/fpmctl" -s "$FPMD_CTL" ping
	assert_eq 0 "$status" "exit status as $u, control.owner now ($stderr)"
	run --separate-stderr as_nobody "$dir/fpmctl" -s "$FPMD_CTL" ping
	assert_eq 1 "$status" "exit status as nobody after the reload ($stderr)"
	assert_contains "$stderr" "(permission_denied)"
	# root still may
	run --separate-stderr ctl ping
	assert_eq 0 "$status" "$stderr"
}

# master_cpu: user + system CPU ticks the fpmd master has used so far.
master_cpu() {
	local a
	read -r -a a <<<"$(sed 's/.*) //' "/proc/$FPMD_PID/stat")"
	echo $((a[11] + a[12]))
}

@test "out of file descriptors: the control socket does not spin, and accepts again once fds are free" {
	local dir=$BATS_TEST_TMPDIR nfd cpu0 cpu1 lines
	fpmd_conf
	fpmd_start
	nfd=$(find "/proc/$FPMD_PID/fd" -mindepth 1 | wc -l)
	# Room for two more descriptors: then accept() fails with EMFILE
	# while connections wait in the backlog, readable for ever.
	prlimit --pid "$FPMD_PID" --nofile=$((nfd + 2)):
	py_bg held '
cs = []
for i in range(8):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(SOCK)
    cs.append(s)
open(sys.argv[2], "w").close()
time.sleep(60)' "$dir/held"
	wait_until 10 test -e "$dir/held" || fail "the clients did not connect"
	wait_log "control: accept" 10
	cpu0=$(master_cpu)
	sleep 2		# a measure of the CPU used, not a wait for an event
	cpu1=$(master_cpu)
	(((cpu1 - cpu0) < 50)) || fail "the master used $((cpu1 - cpu0)) CPU ticks in 2 s"
	lines=$(grep -c 'control: accept' "$FPMD_LOG")
	((lines < 10)) || fail "$lines lines of 'control: accept' in the log"
	kill "${BG[held]}"
	wait "${BG[held]}" 2>/dev/null || true
	unset "BG[held]"
	wait_until 10 ctl ping >/dev/null 2>&1 || fail "ping refused after the clients left"
}

@test "status --full lists a worker whose request URI, query or script is not UTF-8" {
	local dir=$BATS_TEST_TMPDIR
	fpmd_conf
	fpmd_start
	# Raw bytes as a client may send them (nginx passes REQUEST_URI as it
	# came), and a multi-byte character cut by the slot's 128 bytes.
	"$PYTHON" - "$FPMD_SOCK" "$WWW_ROOT/ctl/sleep.php" "$dir/mark" <<'PY' 3>&- &
import socket, struct, sys, time
sock, script, mark = sys.argv[1], sys.argv[2], sys.argv[3]
def rec(t, rid, body):
    return struct.pack('>BBHHBB', 1, t, rid, len(body), 0, 0) + body
def pair(k, v):
    return struct.pack('>BI', len(k), len(v) | 0x80000000) + k + v
uri = b'/ctl/sleep.php/' + b'\xc3\xa9' * 60 + b'/\xff?s=3'
params = b''.join(pair(k, v) for k, v in [
    (b'SCRIPT_FILENAME', script.encode()), (b'REQUEST_METHOD', b'GET'),
    (b'SCRIPT_NAME', b'/ctl/sleep.php'), (b'REQUEST_URI', uri),
    (b'QUERY_STRING', b's=3&n=1&mark=' + mark.encode() + b'&x=\xfe')])
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
s.sendall(rec(1, 1, struct.pack('>HB5x', 1, 0)) + rec(4, 1, params) +
          rec(4, 1, b'') + rec(5, 1, b''))
while s.recv(65536):
    pass
PY
	BG[raw]=$!
	wait_until 15 test -s "$dir/mark" || fail "the script did not start"
	run --separate-stderr ctl --json status --full
	assert_eq 0 "$status" "$stderr"
	assert_eq 2 "$(json 'len(d["pools"][0]["processes"])' <<<"$output")" "workers listed: $output"
	assert_eq 1 "$(json 'len([p for p in d["pools"][0]["processes"] if p["state"] == "Running" and p["request_uri"].startswith("/ctl/sleep.php/\u00e9")])' <<<"$output")" "the running one: $output"
}

@test "status and config list a pool whose listen path and env value are not UTF-8" {
	local dir=$BATS_TEST_TMPDIR
	fpmd_conf 'env {' "    FOO = \"caf$(printf '\xe9')\"" '}'
	# a unix path is bytes: Latin-1 here
	sed -i "s|listen = \"$FPMD_SOCK\"|listen = \"$dir/caf$(printf '\xe9').sock\"|" "$FPMD_CONF"
	fpmd_start
	run --separate-stderr ctl --json status
	assert_eq 0 "$status" "$stderr"
	assert_eq "www" "$(json 'd["pools"][0]["pool"]' <<<"$output")" "the pool in status: $output"
	assert_eq "$dir/caf?.sock" "$(json 'd["pools"][0]["listen"]' <<<"$output")"
	run --separate-stderr ctl --json config
	assert_eq 0 "$status" "$stderr"
	assert_eq "caf?" "$(json 'd["config"]["pools"][0]["env"]["FOO"]' <<<"$output")" "config: $output"
}

# unix_get SOCKET SCRIPT_FILENAME: one FastCGI GET over a unix socket; exits
# non-zero unless END_REQUEST came.
unix_get() {
	"$PYTHON" - "$@" <<'PY'
import socket, struct, sys
def rec(t, body):
    return struct.pack('>BBHHBB', 1, t, 1, len(body), 0, 0) + body
def pair(k, v):
    return bytes([len(k), len(v)]) + k + v
params = b''.join(pair(k.encode(), v.encode()) for k, v in [
    ('SCRIPT_FILENAME', sys.argv[2]), ('REQUEST_METHOD', 'GET'),
    ('SCRIPT_NAME', '/x.php'), ('REQUEST_URI', '/x.php')])
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(rec(1, struct.pack('>HB5x', 1, 0)) + rec(4, params) + rec(4, b'') +
          rec(5, b''))
out = b''
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
sys.exit(0 if b'\x01\x03\x00\x01' in out else 1)
PY
}

# accepted POOL: accepted_conn of POOL in status.
accepted() {
	ctl --json status | json "[q['accepted_conn'] for q in d['pools'] if q['pool'] == '$1'][0]"
}

@test "a pool's scoreboard entry scribbled over by a worker is not given to another pool" {
	((EUID == 0)) || skip "needs root to write into the scoreboard"
	local i
	fpmd_conf
	fpmd_start
	for i in 1 2 3; do
		unix_get "$FPMD_SOCK" "$WWW_ROOT/ctl/ok.php" || fail "request $i"
	done
	assert_eq 3 "$(accepted www)"
	# Any worker can write the shared pages: clear the 'used' word of
	# pool 0's entry (name[32], start, used: offset 40 of 88 bytes).
	"$PYTHON" - "$FPMD_PID" <<'PY'
import struct, sys
pid = sys.argv[1]
for line in open('/proc/%s/maps' % pid):
    f = line.split()
    if f[1].startswith('rw-s') and 'zero' in line:
        start = int(f[0].split('-')[0], 16)
        break
else:
    sys.exit('no scoreboard mapping')
with open('/proc/%s/mem' % pid, 'r+b', buffering=0) as m:
    m.seek(start)
    entry = m.read(80)
    assert entry.startswith(b'www\0'), entry
    assert struct.unpack('<i', entry[40:44])[0] == 1, entry
    m.seek(start + 40)
    m.write(struct.pack('<i', 0))
PY
	cat >>"$FPMD_CONF" <<-EOF
	pool two {
	    listen = "$BATS_TEST_TMPDIR/two.sock"
	    pm = static
	    pm.max_children = 1
	}
	EOF
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "$stderr"
	unix_get "$BATS_TEST_TMPDIR/two.sock" "$WWW_ROOT/ctl/ok.php" || fail "request to two"
	assert_eq 1 "$(accepted two)"
	assert_eq 3 "$(accepted www)" "www's count, after a request to two"
}

@test "a worker slot full of garbage: status still answers, the master computes nothing undefined" {
	((EUID == 0)) || skip "needs root to write into the scoreboard"
	local w state
	fpmd_conf 'request_terminate_timeout = 5s'
	sed -i 's/pm = static/pm = ondemand\n    pm.process_idle_timeout = 30s/' "$FPMD_CONF"
	fpmd_start
	unix_get "$FPMD_SOCK" "$WWW_ROOT/ctl/ok.php" || fail "request"
	w=$(worker_pids | head -1)
	[[ -n $w ]] || fail "no worker"
	# Slot 0 (after 256 pool entries of sizeof(struct sb_pool), 96
	# bytes, or more as counters are added: found by the worker's pid,
	# 12 bytes into it): seq, pool, gen, pid,
	# state, then the times, figures and strings, all garbage but the
	# pid; Idle (2) then Running (4).
	for state in 2 4; do
		"$PYTHON" - "$FPMD_PID" "$w" "$state" <<'PY'
import struct, sys
pid, worker, state = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for line in open('/proc/%s/maps' % pid):
    f = line.split()
    if f[1].startswith('rw-s') and 'zero' in line:
        base = int(f[0].split('-')[0], 16)
        break
else:
    sys.exit('no scoreboard mapping')
with open('/proc/%s/mem' % pid, 'r+b', buffering=0) as m:
    for size in range(88, 512, 8):
        m.seek(base + 256 * size + 12)
        if struct.unpack('<i', m.read(4))[0] == worker:
            slot = base + 256 * size
            break
    else:
        sys.exit('slot 0 not found')
    m.seek(slot)
    head = m.read(24)
    assert struct.unpack('<i', head[12:16])[0] == worker, head
    junk = (struct.pack('<IiiiB7x', 0, 7, 9, worker, state) +
            struct.pack('<qQqqQQdQ', 0x7fffffffffffffff, 2**64 - 1,
                        -0x7fffffffffffffff, -0x7fffffffffffffff,
                        2**64 - 1, 2**64 - 1, float('nan'), 2**64 - 1) +
            b'\xff' * (16 + 128 + 512 + 256 + 32))
    m.seek(slot)
    m.write(junk)
PY
		run --separate-stderr ctl --json status --full
		assert_eq 0 "$status" "$stderr"
		assert_eq 1 "$(json 'len(d["pools"][0]["processes"])' <<<"$output")" "state $state: $output"
		# the process manager's tick looks at the slot too
		sleep 1.5	# a wait for the once-a-second tick, nothing to poll
		run --separate-stderr ctl ping
		assert_eq 0 "$status" "$stderr"
	done
}
