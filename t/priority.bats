#!/usr/bin/env bats
# process.priority: the master's (global) and each pool's (its prototype
# and workers), set with setpriority as php-fpm sets them, seen in the
# nice field of /proc/PID/stat; php-fpm's range check, -19 to 20.

load helper
bats_require_minimum_version 1.5.0

teardown() {
	teardown_stack
}

# nice PID: the nice value of PID (field 19 of /proc/PID/stat, counted
# after the command, which may hold spaces).
nice_of() {
	local line
	read -r line <"/proc/$1/stat" || return 1
	line=${line##*) }
	# state is field 3: nice is 16 fields after it
	awk '{ print $17 }' <<<"$line"
}

# pool_procs POOL: prototypes and workers of POOL under this fpmd.
pool_procs() {
	local p
	for p in $(proc_descendants "$FPMD_PID"); do
		[[ $(proc_args "$p") == "fpmd: pool $1"* ]] && echo "$p"
	done
	return 0
}

# nices POOL: the distinct nice values of POOL's processes.
nices() {
	local p
	for p in $(pool_procs "$1"); do
		nice_of "$p"
	done | sort -u | tr '\n' ' '
}

# conf MASTER WWW API: fpmd.conf with pools www and api (2 workers each);
# an empty priority is left out.
conf() {
	local d
	d=$(t_tmp)
	FPMD_CONF=$d/fpmd.conf
	{
		echo "php_ini = \"$PHP_INI\""
		[[ -n $1 ]] && echo "process.priority = $1"
		echo "pool www {"
		echo "    listen = \"$d/www.sock\""
		echo '    pm = static'
		echo '    pm.max_children = 2'
		[[ -n $2 ]] && echo "    process.priority = $2"
		echo '}'
		echo "pool api {"
		echo "    listen = \"$d/api.sock\""
		echo '    pm = static'
		echo '    pm.max_children = 2'
		[[ -n $3 ]] && echo "    process.priority = $3"
		echo '}'
	} >"$FPMD_CONF"
}

@test "process.priority: the master's, a pool's own, and a pool that inherits the master's" {
	conf 5 12 ""
	fpmd_start
	wait_until 10 count_is 3 eval 'pool_procs www | wc -l'
	wait_until 10 count_is 3 eval 'pool_procs api | wc -l'
	assert_eq 5 "$(nice_of "$FPMD_PID")" "the master"
	assert_eq "12 " "$(nices www)" "pool www's prototype and workers"
	assert_eq "5 " "$(nices api)" "pool api (no process.priority): the master's"
	assert_eq 5 "$(ctl --json config | json 'd["config"]["process.priority"]')"
	assert_eq 12 "$(ctl --json config | json 'd["config"]["pools"][0]["process.priority"]')"
	assert_eq null "$(ctl --json config | json 'd["config"]["pools"][1]["process.priority"]')"
}

@test "process.priority unset: nothing changes" {
	local mine
	mine=$(nice_of $$)
	conf "" "" ""
	fpmd_start
	wait_until 10 count_is 3 eval 'pool_procs www | wc -l'
	assert_eq "$mine" "$(nice_of "$FPMD_PID")"
	assert_eq "$mine " "$(nices www)"
}

@test "a worker replaced later, and a reload's new generation, get the pool's priority" {
	local victim
	conf "" 7 ""
	fpmd_start
	wait_until 10 count_is 3 eval 'pool_procs www | wc -l'
	victim=$(worker_procs | head -n 1)
	kill -KILL "$victim"
	wait_log "child $victim exited on signal 9"
	wait_until 10 count_is 3 eval 'pool_procs www | wc -l'
	assert_eq "7 " "$(nices www)"
	# the reload changes it: the new generation runs at the new value
	sed -i 's/process.priority = 7/process.priority = 9/' "$FPMD_CONF"
	run ctl reload
	assert_eq 0 "$status" "$output"
	wait_until 15 count_is "9 " nices www || fail "nices after the reload: $(nices www)"
}

@test "process.priority out of php-fpm's range is refused, global and per pool" {
	conf 21 "" ""
	run "$FPMD_BIN" -t -R -c "$FPMD_CONF"
	assert_eq 78 "$status" "$output"
	assert_contains "$output" "$FPMD_CONF:2: process.priority must be included into [-19,20] (got 21)"
	conf "" -20 ""
	run "$FPMD_BIN" -t -R -c "$FPMD_CONF"
	assert_eq 78 "$status" "$output"
	assert_contains "$output" "$FPMD_CONF:6: pool www: process.priority must be included into [-19,20] (got -20)"
	conf "" "" high
	run "$FPMD_BIN" -t -R -c "$FPMD_CONF"
	assert_eq 78 "$status" "$output"
	assert_contains "$output" "pool api: process.priority: 'high' is not a whole number"
	conf -19 20 ""
	run "$FPMD_BIN" -t -R -c "$FPMD_CONF"
	assert_eq 0 "$status" "$output"
}
