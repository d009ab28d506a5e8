#!/usr/bin/env bats
# Pools of production size: a static pool of 1000 workers fills and
# reloads, a small one scales to 1000, every worker is counted while it
# fills, and the slots stay enough when reloads come while old generations
# still drain.  These use real workers, so they take some memory (about
# 2 GB for 2000 PHP workers) and a few seconds each.

load helper
bats_require_minimum_version 1.5.0

teardown() {
	teardown_stack
}

setup_file() {
	command -v "$PYTHON" >/dev/null 2>&1 || skip "python3 is not installed"
}

# total_is N: status counts N workers in pool www, N idle, all forked and
# of the latest generation.
total_is() {
	ctl --json status --full | json '"%d %d %d" % (d["pools"][0]["total_processes"], d["pools"][0]["idle_processes"], len([p for p in d["pools"][0]["processes"] if p["pid"] > 0 and p["generation"] == d["generation"]]))' |
		grep -qx "$1 $1 $1"
}

# nworkers: how many worker processes run under this fpmd, in one pass
# over /proc (worker_pids runs ps once a process: too slow for 1000).
nworkers() {
	"$PYTHON" - "$FPMD_PID" <<'PY'
import os, sys
kids = {}
for p in os.listdir('/proc'):
    if not p.isdigit():
        continue
    try:
        with open('/proc/%s/stat' % p) as f:
            st = f.read().rsplit(')', 1)[1].split()
        with open('/proc/%s/cmdline' % p, 'rb') as f:
            title = f.read().split(b'\0')[0].decode(errors='replace')
    except OSError:
        continue
    if st[0] != 'Z':
        kids.setdefault(st[1], []).append((p, title))
n, todo = 0, [sys.argv[1]]
while todo:
    for pid, title in kids.get(todo.pop(), []):
        todo.append(pid)
        if title.startswith('fpmd: pool ') and 'prototype' not in title:
            n += 1
print(n)
PY
}

nprocs_is() {
	(($(nworkers) == $1))
}

@test "a static pool of 1000 workers fills, serves, reloads to a new generation of 1000, stops" {
	fpmd_conf 'pm.max_children = 1000'
	START_TIMEOUT=60 fpmd_start
	wait_until 60 total_is 1000 || fail "status: $(ctl status | grep -E 'total|idle')"
	nprocs_is 1000
	nginx_start
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
	run ctl --timeout 120 reload
	assert_eq 0 "$status" "reload: $output"
	assert_contains "$output" "generation 2"
	wait_until 60 total_is 1000 || fail "after reload: $(ctl status | grep -E 'total|idle')"
	wait_until 60 nprocs_is 1000 || fail "$(nworkers) workers after the old generation drained"
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
	run ! grep -E 'Resource temporarily unavailable|no free scoreboard slot' "$FPMD_LOG"
}

@test "fpmctl scale to 1000 fills the pool; status is exact while it fills; scale down returns" {
	local st n prev=0 i
	fpmd_conf 'pm.max_children = 4'
	fpmd_start
	wait_until 10 total_is 4
	run ctl scale www 1000
	assert_eq 0 "$status" "scale: $output"
	# Every figure status gives while the pool fills is consistent: the
	# count never goes down, total = idle + active.
	for i in $(seq 1 200); do
		st=$(ctl --json status)
		n=$(json 'd["pools"][0]["total_processes"]' <<<"$st")
		assert_eq "$n" "$(json 'd["pools"][0]["idle_processes"] + d["pools"][0]["active_processes"]' <<<"$st")" "idle + active"
		((n >= prev)) || fail "total went from $prev down to $n"
		prev=$n
		((n == 1000)) && break
		sleep 0.1
	done
	wait_until 60 total_is 1000 || fail "status: $(ctl status | grep -E 'total|idle')"
	nprocs_is 1000
	run ctl scale www 3
	assert_eq 0 "$status"
	wait_until 30 nprocs_is 3 || fail "$(nworkers) workers after scaling down to 3"
	wait_until 10 total_is 3
}

@test "a scale down while the pool still fills ends at the new size" {
	fpmd_conf 'pm.max_children = 2'
	fpmd_start
	run ctl scale www 600
	assert_eq 0 "$status" "$output"
	run ctl scale www 5
	assert_eq 0 "$status" "$output"
	wait_until 60 nprocs_is 5 || fail "$(nworkers) workers, expected 5"
	wait_until 10 total_is 5
}

@test "five reloads while old generations still drain: each has its slots, every generation finishes its request" {
	local g
	fpmd_conf 'pm.max_children = 3'
	fpmd_start
	nginx_start
	# Each generation keeps one worker busy, so it stays alive, draining,
	# after the next reload.
	for g in 1 2 3 4 5; do
		bg_slow "slow$g" 8
		run ctl reload
		assert_eq 0 "$status" "reload $g: $output"
	done
	assert_eq 6 "$(generation)"
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
	for g in 1 2 3 4 5; do
		assert_full_body "slow$g"
	done
	run ! grep -F 'no free scoreboard slot' "$FPMD_LOG"
	wait_until 10 nprocs_is 3 || fail "$(nworkers) workers once the old generations are gone"
}

@test "a reload or scale that could run out of slots is refused up front, with the numbers" {
	fpmd_conf 'pm.max_children = 300'
	fpmd_start
	# 300 configured: the scoreboard has 4 x 300 = 1200 slots.
	run ctl scale www 1201
	assert_eq 1 "$status" "$output"
	assert_contains "$output" "between 1 and 1200"
	run ctl scale www 901
	assert_eq 0 "$status" "$output"
	run ctl reload
	assert_eq 1 "$status" "a reload needing 300 more slots beside 901: $output"
	assert_contains "$output" "needs 300 worker slots and 901 of the 1200"
	assert_eq 1 "$(generation)" "the refused reload started nothing"
	run ctl scale www 300
	assert_eq 0 "$status"
	# the 601 asked to go hold their slots until they have gone
	wait_until 60 total_is 300
	run ctl --timeout 60 reload
	assert_eq 0 "$status" "the same reload once scaled back: $output"
	assert_eq 2 "$(generation)"
}

generation() {
	ctl --json ping | json 'd["generation"]'
}

@test "during a reload, a scale to a size past the scoreboard is refused, however large" {
	((EUID == 0)) || skip "needs root to run the pool as another user"
	local hard n
	# The reload is held up: generation 2's prototype can fork no worker
	# under a process limit of 4 for the pool's uid (see reload.bats).
	fpmd_conf 'user = 47126' 'group = 47126'
	sed -i '1i reload_timeout = 30s' "$FPMD_CONF"
	fpmd_start --no-R
	hard=$(awk '/^Max processes/ { print $4 }' "/proc/$FPMD_PID/limits")
	prlimit --pid "$FPMD_PID" --nproc=4:
	run --separate-stderr ctl reload --no-wait
	assert_eq 0 "$status" "$stderr"
	# twice these overflows an int
	for n in 1073741825 2147483647; do
		run ctl scale www "$n"
		assert_eq 1 "$status" "scale to $n during the reload: $output"
		assert_contains "$output" "max_children must be between 1 and"
	done
	assert_eq 2 "$(ctl --json status | json 'd["pools"][0]["max_children"]')"
	prlimit --pid "$FPMD_PID" --nproc="$hard":
}
