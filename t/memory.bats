#!/usr/bin/env bats
# pm.max_memory: after each request, a worker whose private memory (USS,
# from /proc/self/smaps_rollup) is above the bound exits once the answer
# is out, and is replaced; the log says why, fpmctl status counts it.

load helper
bats_require_minimum_version 1.5.0

CLIENT=$FPMD_BUILDDIR/t/fcgi-client

setup() {
	[[ -x $CLIENT ]] || fail "no $CLIENT: build it first (make check)"
}

teardown() {
	teardown_stack
}

# pid_served: the pid of the worker that answers proto/pid.php.
pid_served() {
	local out
	out=$("$CLIENT" -t 20 --body -p "SCRIPT_FILENAME=$WWW_ROOT/proto/pid.php" \
		-p REQUEST_METHOD=GET "$FPMD_SOCK" request) || {
		echo "pid_served: $out" >&2
		return 1
	}
	[[ $out =~ pid=([0-9]+) ]] || { echo "pid_served: $out" >&2; return 1; }
	echo "${BASH_REMATCH[1]}"
}

recycled() {
	ctl --json status | json 'd["pools"][0]["memory_recycled"]'
}

# uss_kb PID: Private_Clean + Private_Dirty of PID, in kB.
uss_kb() {
	awk '/^Private_(Clean|Dirty):/ { s += $2 } END { print s }' "/proc/$1/smaps_rollup"
}

@test "pm.max_memory below a worker's size: it is replaced after every request, the log says why, status counts" {
	local pids=() p i
	fpmd_conf 'pm.max_children = 1' 'pm.max_memory = 256k'
	fpmd_start
	for i in 1 2 3 4; do
		p=$(pid_served)
		pids+=("$p")
		# the answer came before the exit: wait for the exit line
		wait_log "[pool www] child $p exited with code 0"
	done
	assert_eq 4 "$(printf '%s\n' "${pids[@]}" | sort -u | wc -l)" "four requests, four workers: ${pids[*]}"
	for p in "${pids[@]}"; do
		grep -q "NOTICE: \[pool www\] pid $p: private memory [0-9]* kB is above pm.max_memory (256 kB) after 1 request: exiting, to be replaced" "$FPMD_LOG" ||
			fail "no reason logged for $p: $(cat "$FPMD_LOG")"
	done
	assert_eq 4 "$(recycled)"
	ctl status | grep -q '^memory recycled: *4$' || fail "$(ctl status)"
	# a replacement is there, and serves
	wait_until 10 count_is 1 eval 'worker_procs | wc -l'
	pid_served >/dev/null
}

@test "a generous pm.max_memory never recycles" {
	local first p i
	fpmd_conf 'pm.max_children = 1' 'pm.max_memory = 4G'
	fpmd_start
	first=$(pid_served)
	for i in 1 2 3 4 5; do
		p=$(pid_served)
		assert_eq "$first" "$p" "request $i"
	done
	# the bound is far above what the worker uses
	(($(uss_kb "$first") * 1024 < 4 * 1024 * 1024 * 1024)) || fail "uss $(uss_kb "$first") kB"
	assert_eq 0 "$(recycled)"
	! grep -q 'pm.max_memory' "$FPMD_LOG"
	assert_eq 4294967296 "$(ctl --json config | json 'd["config"]["pools"][0]["pm.max_memory"]')"
}

# rss_kb PID: the resident set of PID, in kB.
rss_kb() {
	awk '/^Rss:/ { print $2 }' "/proc/$1/smaps_rollup"
}

@test "the bound is on private memory: a worker whose RSS is above it but USS below is kept" {
	local first u r bound i
	fpmd_conf 'pm.max_children = 1'
	fpmd_start
	first=$(pid_served)
	pid_served >/dev/null
	pid_served >/dev/null
	u=$(uss_kb "$first")
	r=$(rss_kb "$first")
	echo "worker $first: USS $u kB, RSS $r kB" >&2
	((r > 2 * u + 2048)) || skip "RSS $r kB too close to USS $u kB here"
	bound=$((2 * u + 1024))
	fpmd_stop
	fpmd_conf 'pm.max_children = 1' "pm.max_memory = ${bound}k"
	fpmd_start
	first=$(pid_served)
	for i in 1 2 3 4; do
		assert_eq "$first" "$(pid_served)" "request $i"
	done
	(($(rss_kb "$first") > bound)) || fail "RSS $(rss_kb "$first") kB is not above the bound $bound kB"
	assert_eq 0 "$(recycled)"
	! grep -q 'pm.max_memory' "$FPMD_LOG"
}

@test "pm.max_memory = 0 (the default) reads nothing and recycles nothing" {
	local first
	fpmd_conf 'pm.max_children = 1'
	fpmd_start
	first=$(pid_served)
	assert_eq "$first" "$(pid_served)"
	assert_eq "$first" "$(pid_served)"
	assert_eq 0 "$(recycled)"
	# the worker has no smaps_rollup open
	! ls -l "/proc/$first/fd" | grep -q smaps_rollup
}

@test "pm.max_memory through nginx keepalive: the connection is closed with the worker, no request fails" {
	local i pids
	fpmd_conf 'pm.max_children = 2' 'pm.max_memory = 256k'
	fpmd_start
	nginx_start --keepalive
	for i in 1 2 3 4 5 6; do
		assert_status "$BASE_URL/ctl/pid.php" 200
		pids+=" $HTTP_BODY"
	done
	assert_eq 6 "$(tr ' ' '\n' <<<"$pids" | grep -c .)"
	assert_eq 6 "$(tr ' ' '\n' <<<"$pids" | grep . | sort -u | wc -l)" "pids: $pids"
	wait_until 10 count_is 6 recycled
}

@test "pm.max_memory: a value that is not a size is refused at its line" {
	fpmd_conf 'pm.max_memory = 12X'
	run "$FPMD_BIN" -t -R -c "$FPMD_CONF"
	assert_eq 78 "$status" "$output"
	assert_contains "$output" "$FPMD_CONF:$(grep -n max_memory "$FPMD_CONF" | cut -d: -f1): pool www: pm.max_memory: '12X' is not a size (bytes, or a number with k, M or G: 256M)"
	fpmd_conf 'pm.max_memory = -1'
	run "$FPMD_BIN" -t -R -c "$FPMD_CONF"
	assert_eq 78 "$status" "$output"
	assert_contains "$output" "pm.max_memory: '-1' is not a size"
	fpmd_conf 'pm.max_memory = 64m'
	run "$FPMD_BIN" -t -R -c "$FPMD_CONF"
	assert_eq 0 "$status" "$output"
}
