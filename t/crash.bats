#!/usr/bin/env bats
# emergency_restart_threshold / emergency_restart_interval: that many
# workers of one pool dying by SIGSEGV or SIGBUS within the interval give
# that pool a new generation (a new prototype, PHP and opcache started
# again), as a reload does, without losing a request; another pool goes on
# untouched.  php-fpm reloads everything; fpmd restarts the one pool.
# The crashes are real: a script sends its worker SIGSEGV (posix_kill).

load helper
bats_require_minimum_version 1.5.0

CLIENT=$FPMD_BUILDDIR/t/fcgi-client

setup() {
	[[ -x $CLIENT ]] || fail "no $CLIENT: build it first (make check)"
	require_php_ext posix
	# Under ASan the crash must stay a crash: its SEGV handler would turn
	# it into a report and an exit code.
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0:handle_sigbus=0"
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

# two_pools THRESHOLD INTERVAL [CRASH_CHILDREN]: fpmd.conf with pools
# "crash" and "other", static, on $(t_tmp)/POOL.sock; an empty THRESHOLD
# or INTERVAL is left out.
two_pools() {
	local d p
	d=$(t_tmp)
	FPMD_CONF=$d/fpmd.conf
	{
		echo 'log_level = notice'
		echo "php_ini = \"$PHP_INI\""
		[[ -n $1 ]] && echo "emergency_restart_threshold = $1"
		[[ -n $2 ]] && echo "emergency_restart_interval = $2"
		for p in crash other; do
			echo "pool $p {"
			echo "    listen = \"$d/$p.sock\""
			echo '    listen.mode = 0666'
			echo '    pm = static'
			if [[ $p == crash ]]; then
				echo "    pm.max_children = ${3:-2}"
			else
				echo '    pm.max_children = 2'
			fi
			echo '    rlimit_core = 0'
			echo '}'
		done
	} >"$FPMD_CONF"
}

# get POOL SCRIPT [QUERY]: one GET of t/data/www/SCRIPT on POOL's socket;
# prints the body.
get() {
	"$CLIENT" -t 20 --body -p "SCRIPT_FILENAME=$WWW_ROOT/$2" \
		-p REQUEST_METHOD=GET -p "QUERY_STRING=${3:-}" \
		"$(t_tmp)/$1.sock" request
}

# crash N: N requests that crash a worker of pool "crash", one after the
# other, each waited for until fpmd has logged the death.
crash() {
	local i n
	for ((i = 0; i < $1; i++)); do
		n=$(grep -c 'exited on signal 11' "$FPMD_LOG" || true)
		get crash feat/crash.php >/dev/null 2>&1 || true
		wait_until 20 crashes_are_more "$n" ||
			fail "crash $((i + 1)) of $1 was not logged"
	done
}

crashes_are_more() {
	(($(grep -c '\[pool crash\] child [0-9]* exited on signal 11' "$FPMD_LOG" || true) > $1))
}

# prototypes POOL: the pids of POOL's prototypes, one a line.
prototypes() {
	local p
	for p in $(proc_descendants "$FPMD_PID"); do
		[[ $(proc_args "$p") == "fpmd: pool $1 prototype "* ]] && echo "$p"
	done
	return 0
}

# generation POOL: POOL's serving generation, as fpmctl status says.
generation() {
	ctl --json status | json "[p['generation'] for p in d['pools'] if p['pool'] == '$1'][0]"
}

# pids POOL: the pids of POOL's workers in fpmctl status, sorted, one line.
pids() {
	ctl --json status --full |
		json "' '.join(sorted(str(w['pid']) for p in d['pools'] if p['pool'] == '$1' for w in p['processes']))"
}

# restarted POOL OLD_PROTO: POOL has one prototype, not OLD_PROTO, and
# a generation past 1 serves.
restarted() {
	local protos
	protos=$(prototypes "$1")
	[[ -n $protos && $protos != *$'\n'* && $protos != "$2" ]] &&
		(($(generation "$1") > 1))
}

@test "threshold crashes within the interval: the pool gets a new prototype and serves; the other pool is untouched" {
	local proto other_proto other_pids before after pid
	two_pools 3 1m
	fpmd_start
	proto=$(prototypes crash)
	other_proto=$(prototypes other)
	wait_until 10 count_is "2" eval 'pids other | wc -w'
	other_pids=$(pids other)
	# warm the opcache of the crashing pool with a few scripts
	get crash hello.php >/dev/null
	get crash proto/pid.php >/dev/null
	before=$(get crash feat/opcache.php)
	[[ $before == *"enabled=true"* ]] || skip "opcache is not enabled here: $before"
	[[ $before =~ cached=([0-9]+) ]] && before=${BASH_REMATCH[1]}
	((before >= 3)) || fail "expected at least 3 cached scripts, got $before"

	crash 3
	wait_log "WARNING: [pool crash] failed processes threshold (3 in 60 sec) is reached, initiating reload of the pool"
	wait_until 20 restarted crash "$proto" ||
		fail "pool crash was not restarted: $(prototypes crash) / $(ctl status)"
	wait_log "NOTICE: [pool crash] restarted: generation 2 serves"
	# the old prototype and its workers are gone
	wait_until 10 _exited "$proto" || fail "the old prototype $proto is still there"

	# a fresh PHP start-up: a new opcache, which has seen one script
	after=$(get crash feat/opcache.php)
	assert_contains "$after" "cached=1"
	pid=$(get crash proto/pid.php)
	[[ $pid =~ pid=([0-9]+) ]] || fail "no pid: $pid"
	assert_eq "$(prototypes crash)" "$(ps -o ppid= -p "${BASH_REMATCH[1]}" | tr -d ' ')" \
		"the new prototype is the parent of the worker that answers"

	# the other pool: same prototype, same workers, generation 1
	assert_eq "$other_proto" "$(prototypes other)" "prototype of pool other"
	assert_eq "$other_pids" "$(pids other)" "workers of pool other"
	assert_eq 1 "$(generation other)"
	assert_contains "$(get other proto/pid.php)" "pid="
	! grep -q '\[pool other\] \(restart\|failed processes\)' "$FPMD_LOG"
}

@test "fewer crashes than the threshold: nothing is restarted" {
	local proto workers
	two_pools 3 1m
	fpmd_start
	proto=$(prototypes crash)
	crash 2
	# the decision follows each death at once: two deaths, no restart
	assert_eq 1 "$(generation crash)"
	assert_eq "$proto" "$(prototypes crash)"
	! grep -q 'failed processes threshold' "$FPMD_LOG"
	! grep -q 'restarting' "$FPMD_LOG"
	assert_contains "$(get crash proto/pid.php)" "pid="
}

@test "crashes further apart than the interval do not add up" {
	local proto
	two_pools 2 2s
	fpmd_start
	proto=$(prototypes crash)
	crash 1
	# let the interval pass: this sleep is the test, not a synchronisation
	sleep 2.5
	crash 1
	# the decision follows each death at once: two deaths, 2.5 s apart
	assert_eq 1 "$(generation crash)"
	assert_eq "$proto" "$(prototypes crash)"
	! grep -q 'failed processes threshold' "$FPMD_LOG"
	! grep -q 'restarting' "$FPMD_LOG"
	assert_contains "$(get crash proto/pid.php)" "pid="
}

@test "no emergency_restart_* set: crashes only restart the worker, with a back-off" {
	local proto
	two_pools "" ""
	fpmd_start
	proto=$(prototypes crash)
	crash 4
	assert_eq 1 "$(generation crash)"
	assert_eq "$proto" "$(prototypes crash)"
	! grep -q 'failed processes threshold' "$FPMD_LOG"
	assert_contains "$(get crash proto/pid.php)" "pid="
}

@test "a request running in the pool while it is restarted is answered whole" {
	local proto d
	d=$(t_tmp)
	two_pools 3 1m 3
	fpmd_start
	proto=$(prototypes crash)
	# one worker holds a 4 s request; the two others take the crashes
	"$CLIENT" -t 60 --body -p "SCRIPT_FILENAME=$WWW_ROOT/ctl/sleep.php" \
		-p REQUEST_METHOD=GET -p "QUERY_STRING=s=4&mark=$d/slow.mark" \
		"$d/crash.sock" request >"$d/slow.out" 2>&1 3>&- &
	BG_PIDS+=($!)
	wait_until 15 test -s "$d/slow.mark" || fail "the slow request did not start"
	crash 3
	wait_until 20 restarted crash "$proto" || fail "not restarted: $(ctl status)"
	wait "${BG_PIDS[0]}" || fail "the slow request failed: $(cat "$d/slow.out")"
	grep -q '^end$' "$d/slow.out" || fail "the slow request was cut: $(tail -c 300 "$d/slow.out")"
	grep -q 'END_REQUEST.*status=0' "$d/slow.out" ||
		grep -q 'END_REQUEST' "$d/slow.out" || fail "no END_REQUEST: $(tail -n 3 "$d/slow.out")"
}

@test "a reload during a pool's restart takes its place" {
	local proto
	require_php_ext opcache
	two_pools 3 1m
	# PHP's start-up of pool crash takes 2 s (a preload script that
	# sleeps): its restart is still under way when the reload comes
	sed -i "/pool crash {/a\\    php_admin_value {\\n        opcache.preload = \"$WWW_ROOT/crash/slow_start.php\"\\n        opcache.preload_user = $(id -un)\\n    }" "$FPMD_CONF"
	fpmd_start
	proto=$(prototypes crash)
	crash 3
	wait_log "[pool crash] restarting: generation 2 starting"
	run ctl reload
	assert_eq 0 "$status" "fpmctl reload: $output"
	assert_log_contains "NOTICE: [pool crash] restart left to the reload asked meanwhile"
	wait_log "reloaded: generation 2 serves"
	# both pools serve the reload's generation, one prototype each
	wait_until 20 count_is 1 eval 'prototypes crash | wc -l'
	wait_until 20 count_is 1 eval 'prototypes other | wc -l'
	assert_eq 2 "$(generation crash)"
	assert_eq 2 "$(generation other)"
	assert_contains "$(get crash proto/pid.php)" "pid="
	assert_contains "$(get other proto/pid.php)" "pid="
	! grep -q '\[pool crash\] restarted' "$FPMD_LOG"
}

@test "emergency_restart_*: bad values are refused at their line; one without the other is a warning" {
	local d
	d=$(t_tmp)
	two_pools -1 1m
	run "$FPMD_BIN" -t -R -c "$FPMD_CONF"
	assert_eq 78 "$status" "$output"
	assert_contains "$output" "$FPMD_CONF:3: emergency_restart_threshold must be at least 0 (got -1)"
	two_pools 3 10x
	run "$FPMD_BIN" -t -R -c "$FPMD_CONF"
	assert_eq 78 "$status" "$output"
	assert_contains "$output" "$FPMD_CONF:4: emergency_restart_interval: '10x' is not a duration"
	two_pools 3 ""
	fpmd_start
	assert_log_contains "WARNING: $FPMD_CONF:$(grep -n emergency_restart_threshold "$FPMD_CONF" | cut -d: -f1): emergency_restart_threshold is set but not emergency_restart_interval: no pool is restarted on crashes"
	assert_eq 3 "$(ctl --json config | json 'd["config"]["emergency_restart_threshold"]')"
}
