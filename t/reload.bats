#!/usr/bin/env bats
# Reload and stop, through real nginx: generations side by side, no
# request refused or cut, a bad configuration or a failed PHP start-up
# changes nothing, listeners and pools follow the new configuration, and
# the three ways to stop.

# FPMD_BIN and friends come from helper.bash, $stderr from `run
# --separate-stderr`; each @test is a subshell of its own.
# shellcheck disable=SC2030,SC2031,SC2119,SC2120,SC2153,SC2154

load helper
bats_require_minimum_version 1.5.0

# ------------------------------------------------------------ local helpers
# (candidates for t/helper.bash; control.bats has the same ones)



# status_pids [POOL]: "pid:generation" of the workers status --full lists
# for POOL (default www), sorted, on one line.
status_pids() {
	ctl --json status --full |
		json "' '.join(sorted('%d:%d' % (p['pid'], p['generation']) for q in d['pools'] if q['pool'] == '${1:-www}' for p in q['processes']))"
}

# generation: the latest generation, from ping.
generation() {
	ctl --json ping | json 'd["generation"]'
}

# procs_titled PATTERN: pids of this fpmd's descendants whose process title
# matches the glob PATTERN.
procs_titled() {
	local p a
	for p in $(proc_descendants "$FPMD_PID"); do
		a=$(ps -o args= -p "$p" 2>/dev/null) || continue
		# shellcheck disable=SC2053
		[[ $a == $1 ]] && echo "$p"
	done
	return 0
}

# worker_procs / proto_procs [POOL]: live workers / prototypes (of POOL).
worker_procs() {
	local p
	for p in $(procs_titled "fpmd: pool ${1:-*}"); do
		[[ $(ps -o args= -p "$p") != *prototype* ]] && echo "$p"
	done
	return 0
}
proto_procs() {
	procs_titled "fpmd: pool ${1:-*} prototype*"
}

sorted_descendants() {
	proc_descendants "$FPMD_PID" | sort
}

# settled N: the pools run N workers and one prototype each of the latest
# generation, and nothing else (old generations are gone).
settled() {
	local n=$1 np
	np=$(ctl --json status | json 'len(d["pools"])')
	[[ $(worker_procs | wc -l) == "$n" && $(proto_procs | wc -l) == "$np" ]]
}

# slow_startup SECS: make the pool's PHP start-up take SECS seconds (an
# opcache.preload script that sleeps), from the next reload on.
slow_startup() {
	local d=$BATS_TEST_TMPDIR
	require_php_ext opcache
	printf '<?php\nsleep(%d);\n' "$1" >"$d/preload.php"
	open_path "$d"
	chmod 644 "$d/preload.php"
	sed -i "s|^    pm = static|    php_admin_value {\\n        opcache.preload = \"$d/preload.php\"\\n        opcache.preload_user = nobody\\n    }\\n    pm = static|" "$FPMD_CONF"
	grep -q preload.php "$FPMD_CONF"
}

# fpmd_gone: fpmd exited; check its status is 0 and nothing of it is left.
# Clears FPMD_PID (the teardown has nothing to stop then).
fpmd_gone() {
	local pid=$FPMD_PID rc=0
	wait_until 10 _exited "$pid" || fail "fpmd (pid $pid) still runs"
	wait "$pid" 2>/dev/null || rc=$?
	FPMD_PID=
	wait_until 5 _no_group_left "$pid" || {
		proc_group_members "$pid" >&2
		_kill_group "$pid"
		fail "fpmd (pid $pid) left processes behind"
	}
	assert_eq 0 "$rc" "fpmd's exit status"
}

teardown() {
	[[ -n ${BATS_TEST_TMPDIR:-} ]] && touch "$BATS_TEST_TMPDIR/stop"
	teardown_stack
}

# load_loop URL OUT: requests to URL, 10 a curl, until the file "stop"
# appears; one line "HTTP_CODE BYTES" per request in OUT.
load_loop() {
	local url=$1 out=$2 i
	local -a args=()
	for i in 1 2 3 4 5 6 7 8 9 10; do
		args+=(-o /dev/null "$url")
	done
	while [[ ! -e $BATS_TEST_TMPDIR/stop ]]; do
		curl -s --max-time 20 -w '%{http_code} %{size_download}\n' "${args[@]}" >>"$out"
	done
}

load_count() {
	cat "$BATS_TEST_TMPDIR"/load.* 2>/dev/null | wc -l
}

# load_stop: stop every load_loop and wait for them; sets LOAD_TOTAL
# (requests answered) and LOAD_BAD (those not "200 3"), and prints both.
load_stop() {
	local n
	touch "$BATS_TEST_TMPDIR/stop"
	for n in "${!BG[@]}"; do
		wait "${BG[$n]}" || true
		unset "BG[$n]"
	done
	LOAD_TOTAL=$(load_count)
	LOAD_BAD=$(cat "$BATS_TEST_TMPDIR"/load.* | grep -vc '^200 3$' || true)
	echo "# $LOAD_TOTAL requests, $LOAD_BAD failed" >&3
}

# load_past N MS: at least N requests answered and MS ms gone since the
# last mark (set LOAD_MARK/LOAD_T first).
load_past() {
	(($(load_count) >= LOAD_MARK + $1 && $(now_ms) >= LOAD_T + $2))
}

# JSON replies are read, and raw clients written, in python3.
setup_file() {
	command -v "$PYTHON" >/dev/null 2>&1 || skip "python3 is not installed"
}

# ------------------------------------------------------------------ tests

@test "20 reloads under load through nginx (with and without keepalive): no request fails" {
	local d=$BATS_TEST_TMPDIR i r n bad total f
	fpmd_conf 'pm.max_children = 4'
	fpmd_start
	nginx_start -n plain
	local plain=$BASE_URL
	nginx_start --keepalive -n ka
	local ka=$BASE_URL
	for i in 1 2 3; do
		load_loop "$plain/ctl/ok.php" "$d/load.plain$i" 3>&- &
		BG[plain$i]=$!
		load_loop "$ka/ctl/ok.php" "$d/load.ka$i" 3>&- &
		BG[ka$i]=$!
	done
	LOAD_MARK=0 LOAD_T=$(now_ms)
	wait_until 20 load_past 50 0 || fail "the load does not run: $(load_count) answers"
	# (not $i: bats 1.8's `run --separate-stderr` sets a global i)
	for r in $(seq 20); do
		LOAD_MARK=$(load_count) LOAD_T=$(now_ms)
		run --separate-stderr ctl reload
		[[ $status -eq 0 ]] || fail "reload $r: exit $status: $stderr"
		assert_match "$output" "^reloaded: generation $((r + 1)) in [0-9]+ ms$"
		# about a second of traffic per generation
		wait_until 20 load_past 30 900 || fail "the load stalled after reload $r: $(load_count) answers"
	done
	load_stop
	total=$LOAD_TOTAL bad=$LOAD_BAD
	if ((bad)); then
		for f in "$d"/load.*; do
			echo "${f##*/}: $(grep -v '^200 3$' "$f" | sort | uniq -c | tr '\n' ';')" >&2
		done
		grep -h 'upstream' "$d"/plain/error.log "$d"/ka/error.log | tail -n 20 >&2
		fail "$bad of $total requests failed across 20 reloads"
	fi
	((total >= 500)) || fail "only $total requests in the test"

	assert_eq 21 "$(generation)" "generation after 20 reloads"
	assert_eq 21 "$(ctl --json status | json 'd["pools"][0]["generation"]')"
	wait_until 20 settled 4 ||
		fail "old generations still there: $(ctl status --full)"
	assert_eq 4 "$(status_pids | tr ' ' '\n' | grep -c ':21$')" "workers of generation 21"
	assert_eq 4 "$(status_pids | wc -w)" "workers listed"
}

@test "a 3 s request in flight during a reload completes with its whole body" {
	local old st
	fpmd_conf
	fpmd_start
	nginx_start
	bg_slow slow 3
	old=$(cat "$BATS_TEST_TMPDIR/slow.mark")
	run --separate-stderr ctl reload
	[[ $status -eq 0 ]] || fail "exit $status: $stderr"
	# While it drains: the old worker, Running, of generation 1, beside two
	# new ones.
	st=$(ctl --json status --full)
	assert_eq "1 Running" "$(json "' '.join('%d %s' % (p['generation'], p['state']) for p in d['pools'][0]['processes'] if p['pid'] == $old)" <<<"$st")"
	assert_eq 2 "$(json "len([p for p in d['pools'][0]['processes'] if p['generation'] == 2])" <<<"$st")"
	assert_eq 2 "$(json 'd["pools"][0]["generation"]' <<<"$st")"
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
	assert_full_body slow
	wait_until 10 settled 2 || fail "the old generation did not go: $(ctl status --full)"
	proc_alive "$old" && fail "old worker $old still alive"
	assert_eq 2 "$(status_pids | tr ' ' '\n' | grep -c ':2$')"
}

@test "after a reload, a changed php_admin_value is what new requests see" {
	local i
	fpmd_conf 'php_admin_value { precision = 10 }'
	fpmd_start
	nginx_start
	assert_body_equals "$BASE_URL/ctl/ini.php?k=precision" 10
	sed -i 's/precision = 10/precision = 17/' "$FPMD_CONF"
	run --separate-stderr ctl reload
	[[ $status -eq 0 ]] || fail "exit $status: $stderr"
	for i in 1 2 3 4 5 6; do
		assert_body_equals "$BASE_URL/ctl/ini.php?k=precision" 17
	done
}

@test "reload with a typo: exit 1 with FILE:LINE, the serving generation is untouched" {
	local before line
	fpmd_conf
	fpmd_start
	nginx_start
	before=$(status_pids)
	sed -i 's/pm.max_children = 2/pm.max_chlidren = 3/' "$FPMD_CONF"
	line=$(grep -n 'pm.max_chlidren' "$FPMD_CONF" | cut -d: -f1)
	run --separate-stderr ctl reload
	assert_eq 1 "$status" "exit status ($stderr)"
	assert_contains "$stderr" "(config_invalid)"
	assert_contains "$stderr" "$FPMD_CONF:$line: "
	assert_contains "$stderr" "pm.max_chlidren"
	assert_eq "" "$output"
	run --separate-stderr ctl --json reload
	assert_eq 1 "$status"
	assert_eq config_invalid "$(json 'd["error"]["code"]' <<<"$output")"
	assert_match "$(json 'd["errors"][0]' <<<"$output")" "^$FPMD_CONF:$line: "

	assert_eq 1 "$(generation)" "generation"
	assert_eq "$before" "$(status_pids)" "workers"
	assert_eq running "$(ctl --json status | json 'd["state"]')"
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
	# Fixed: the next reload is generation 2.
	sed -i 's/pm.max_chlidren = 3/pm.max_children = 3/' "$FPMD_CONF"
	run --separate-stderr ctl reload
	[[ $status -eq 0 ]] || fail "exit $status: $stderr"
	assert_eq "reloaded: generation 2" "${output% in *}"
	wait_until 10 settled 3 || fail "$(ctl status --full)"
}

@test "reload whose PHP start-up fails: reload_failed, the old generation serves, nothing left over" {
	require_php_ext opcache
	local d=$BATS_TEST_TMPDIR before procs
	fpmd_conf
	fpmd_start
	nginx_start
	before=$(status_pids)
	procs=$(sorted_descendants)

	# A php_ini fpmd (root) can read but the pool's user cannot: the
	# configuration is valid, the prototype refuses it.
	if ((EUID == 0)); then
		cp "$PHP_INI" "$d/private.ini"
		chmod 600 "$d/private.ini"
		sed -i "s|^    pm = static|    user = nobody\n    php_ini = \"$d/private.ini\"\n    pm = static|" "$FPMD_CONF"
		run --separate-stderr ctl reload
		assert_eq 1 "$status" "exit status ($stderr)"
		assert_contains "$stderr" "(reload_failed)"
		assert_contains "$stderr" "private.ini"
		run --separate-stderr ctl --json reload
		assert_eq 1 "$status"
		assert_eq reload_failed "$(json 'd["error"]["code"]' <<<"$output")"

		assert_eq 1 "$(ctl --json status | json 'd["pools"][0]["generation"]')" "serving generation"
		assert_eq "$before" "$(status_pids)" "workers"
		assert_eq running "$(ctl --json status | json 'd["state"]')"
		assert_body_equals "$BASE_URL/ctl/ok.php" ok
		wait_until 10 count_is "$procs" sorted_descendants ||
			fail "processes before: ${procs//$'\n'/ }, now: $(sorted_descendants | tr '\n' ' ')"
		assert_log_contains "reload failed"
		sed -i '/private.ini/d; /user = nobody/d' "$FPMD_CONF"
	fi

	# PHP itself fails (a fatal error in opcache.preload): the same.
	printf '<?php\nno_such_function_in_preload();\n' >"$d/preload.php"
	open_path "$d"
	chmod 644 "$d/preload.php"
	sed -i "s|^    pm = static|    php_admin_value {\n        opcache.preload = \"$d/preload.php\"\n        opcache.preload_user = nobody\n    }\n    pm = static|" "$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 1 "$status" "exit status with a failing preload ($stderr)"
	assert_contains "$stderr" "(reload_failed)"
	assert_eq 1 "$(ctl --json status | json 'd["pools"][0]["generation"]')" "serving generation"
	assert_eq "$before" "$(status_pids)" "workers"
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
	wait_until 10 count_is "$procs" sorted_descendants ||
		fail "processes before: ${procs//$'\n'/ }, now: $(sorted_descendants | tr '\n' ' ')"
	assert_log_contains "no_such_function_in_preload"
}

@test "a reload takes pm.max_children from the file again after a scale" {
	fpmd_conf
	fpmd_start
	ctl scale www 3 >/dev/null
	wait_until 10 settled 3 || fail "$(ctl status --full)"
	run --separate-stderr ctl reload
	[[ $status -eq 0 ]] || fail "exit $status: $stderr"
	assert_eq 2 "$(ctl --json status | json 'd["pools"][0]["max_children"]')"
	wait_until 10 settled 2 || fail "$(ctl status --full)"
}

@test "SIGUSR2 reloads as fpmctl reload does" {
	local before
	fpmd_conf
	fpmd_start
	nginx_start
	before=$(status_pids)
	kill -USR2 "$FPMD_PID"
	wait_until 10 count_is 2 generation || fail "generation $(generation) after SIGUSR2"
	wait_log "reloaded: generation 2 serves"
	assert_log_contains "reloading: generation 2 starting"
	wait_until 10 settled 2 || fail "$(ctl status --full)"
	assert_eq 2 "$(status_pids | tr ' ' '\n' | grep -c ':2$')"
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
	# And a typo by signal: logged, nothing changes.
	echo 'bogus_option = 1' >>"$FPMD_CONF"
	before=$(status_pids)
	kill -USR2 "$FPMD_PID"
	wait_log "bogus_option"
	assert_eq 2 "$(generation)"
	assert_eq "$before" "$(status_pids)"
}

@test "reload --no-wait returns at once; status shows reloading, then the new generation" {
	local t0 t1
	fpmd_conf
	fpmd_start
	nginx_start
	slow_startup 2
	t0=$(now_ms)
	run --separate-stderr ctl reload --no-wait
	t1=$(now_ms)
	[[ $status -eq 0 ]] || fail "exit $status: $stderr"
	assert_eq "reload started: generation 2" "$output"
	(((t1 - t0) < 1500)) || fail "reload --no-wait took $((t1 - t0)) ms"
	assert_eq reloading "$(ctl --json status | json 'd["state"]')"
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
	wait_until 15 count_is 2 eval 'ctl --json status | json "d[\"pools\"][0][\"generation\"]"' ||
		fail "generation 2 does not serve: $(ctl status)"
	wait_until 10 count_is running eval 'ctl --json status | json "d[\"state\"]"'
	wait_log "reloaded: generation 2 serves"
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
}

@test "a reload asked while one is under way follows it: both applied, in order, two asked meanwhile are one" {
	local d=$BATS_TEST_TMPDIR rc=0 t0
	fpmd_conf
	fpmd_start
	nginx_start
	slow_startup 3
	"$FPMCTL" -s "$FPMD_CTL" reload >"$d/first.out" 2>"$d/first.err" 3>&- &
	BG[first]=$!
	wait_until 10 count_is reloading eval 'ctl --json status | json "d[\"state\"]"' ||
		fail "status never said reloading"
	# php-fpm restarts twice on two USR2: the second reload waits for
	# the first instead of being refused
	"$FPMCTL" -s "$FPMD_CTL" reload >"$d/second.out" 2>"$d/second.err" 3>&- &
	BG[second]=$!
	wait_log "reload asked while generation 2 starts: it follows once that one is done"
	run --separate-stderr ctl --json reload --no-wait
	assert_eq 0 "$status" "exit status of a --no-wait reload meanwhile ($stderr)"
	assert_eq true "$(json 'd["pending"]' <<<"$output")"
	# Generation 1 serves meanwhile.
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
	assert_eq 1 "$(ctl --json status | json 'd["pools"][0]["generation"]')"
	wait "${BG[first]}" || rc=$?
	unset "BG[first]"
	assert_eq 0 "$rc" "exit status of the first reload ($(cat "$d/first.err"))"
	assert_match "$(cat "$d/first.out")" '^reloaded: generation 2 in [0-9]+ ms$'
	# the one that waited, and the --no-wait one with it, is the next
	wait "${BG[second]}" || rc=$?
	unset "BG[second]"
	assert_eq 0 "$rc" "exit status of the second reload ($(cat "$d/second.err"))"
	assert_match "$(cat "$d/second.out")" '^reloaded: generation 3 in [0-9]+ ms$'
	assert_eq 3 "$(generation)"
	assert_eq running "$(ctl --json status | json 'd["state"]')"
	assert_eq 1 "$(grep -c "reloading: generation 3 starting" "$FPMD_LOG")"
	run ! grep -F "generation 4" "$FPMD_LOG"
	run ! grep -F "refused" "$FPMD_LOG"
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
}

@test "two reloads back to back under load, by signal and by fpmctl: each applied, no request lost" {
	local d=$BATS_TEST_TMPDIR n bad total proto
	fpmd_conf 'pm.max_children = 4'
	fpmd_start
	nginx_start
	for n in 1 2; do
		load_loop "$BASE_URL/ctl/ok.php" "$d/load.$n" 3>&- &
		BG[load$n]=$!
	done
	LOAD_MARK=0 LOAD_T=$(now_ms)
	wait_until 20 load_past 30 0 || fail "the load does not run: $(load_count) answers"
	# USR2 twice in a row, as php-fpm users send it: two reloads (the
	# second once the first is read: the kernel keeps one of a signal
	# pending, so two sent at once may arrive as one)
	kill -USR2 "$FPMD_PID"
	wait_log "reloading: generation 2 starting" 30
	kill -USR2 "$FPMD_PID"
	wait_log "reloaded: generation 3 serves" 30
	run ! grep -F "refused" "$FPMD_LOG"
	# a reload not waited for, and one right after it
	run --separate-stderr ctl reload --no-wait
	assert_eq 0 "$status" "$stderr"
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "the reload right after another: $stderr"
	assert_match "$output" '^reloaded: generation 5 in [0-9]+ ms$'
	# and once the log says "reloaded" while the old workers are still
	# being told to go: their prototype, stopped, cannot say it told them
	# (the reload waits up to 2 s for that), and a reload asked then
	# follows; its workers serve meanwhile
	proto=$(proto_procs_gen 5)
	[[ -n $proto ]] || fail "no prototype of generation 5"
	kill -STOP "$proto"
	run --separate-stderr ctl reload --no-wait
	assert_eq 0 "$status" "$stderr"
	wait_log "reloaded: generation 6 serves" 30
	run --separate-stderr ctl reload
	kill -CONT "$proto"
	assert_eq 0 "$status" "the reload right after 'reloaded': $stderr"
	assert_match "$output" '^reloaded: generation 7 in [0-9]+ ms$'
	LOAD_MARK=$(load_count) LOAD_T=$(now_ms)
	wait_until 20 load_past 20 0 || fail "the load stalled: $(load_count) answers"
	load_stop
	total=$LOAD_TOTAL bad=$LOAD_BAD
	((bad == 0)) || fail "$bad of $total requests failed: $(cat "$d"/load.* | grep -v '^200 3$' | sort | uniq -c)"
	run ! grep -F "refused" "$FPMD_LOG"
	wait_until 20 settled 4 || fail "old generations still there: $(ctl status --full)"
	assert_eq 4 "$(status_pids | tr ' ' '\n' | grep -c ':7$')" "workers of generation 7"
}

@test "a stop while a reload is under way: the reload and the one waiting behind it get stopping, fpmd exits cleanly" {
	local d=$BATS_TEST_TMPDIR rc=0
	fpmd_conf
	fpmd_start
	slow_startup 3
	"$FPMCTL" -s "$FPMD_CTL" reload >"$d/first.out" 2>"$d/first.err" 3>&- &
	BG[first]=$!
	wait_until 10 count_is reloading eval 'ctl --json status | json "d[\"state\"]"' ||
		fail "status never said reloading"
	# one more, waiting behind the first: it is told too
	"$FPMCTL" -s "$FPMD_CTL" reload >"$d/second.out" 2>"$d/second.err" 3>&- &
	BG[second]=$!
	wait_log "reload asked while generation 2 starts"
	run --separate-stderr ctl stop
	assert_eq 0 "$status" "exit status of stop ($stderr)"
	wait "${BG[first]}" || rc=$?
	unset "BG[first]"
	assert_eq 1 "$rc" "exit status of the reload ($(cat "$d/first.err"))"
	assert_contains "$(cat "$d/first.err")" "(stopping)"
	rc=0
	wait "${BG[second]}" || rc=$?
	unset "BG[second]"
	assert_eq 1 "$rc" "exit status of the reload that waited ($(cat "$d/second.err"))"
	assert_contains "$(cat "$d/second.err")" "(stopping)"
	fpmd_gone
	[[ ! -e $FPMD_SOCK ]] || fail "$FPMD_SOCK left behind"
	[[ ! -e $FPMD_CTL ]] || fail "$FPMD_CTL left behind"
}

@test "listen address changed by a reload: the new one serves, the old one goes once drained" {
	local d=$BATS_TEST_TMPDIR a b
	a=$d/a.sock b=$d/b.sock
	fpmd_conf
	sed -i "s|listen = \".*\"|listen = \"$a\"|" "$FPMD_CONF"
	fpmd_start
	nginx_start -n a "$a"
	local url_a=$BASE_URL
	bg_slow slow 2 "$url_a"
	sed -i "s|listen = \".*\"|listen = \"$b\"|" "$FPMD_CONF"
	run --separate-stderr ctl reload
	[[ $status -eq 0 ]] || fail "exit $status: $stderr"
	nginx_start -n b "$b"
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
	assert_eq "$b" "$(ctl --json status | json 'd["pools"][0]["listen"]')"
	assert_full_body slow
	wait_until 10 settled 2 || fail "$(ctl status --full)"
	wait_until 10 test ! -e "$a" || fail "$a still there after the old generation went"
	unix_connect "$a" && fail "something still answers on $a"
	[[ -S $b ]]
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
}

@test "a pool added and a pool removed by a reload" {
	local d=$BATS_TEST_TMPDIR api_pids
	fpmd_conf
	cat >>"$FPMD_CONF" <<EOF
pool api {
    listen = "$d/api.sock"
    listen.mode = 0666
    pm = static
    pm.max_children = 2
}
EOF
	fpmd_start
	nginx_start -n api "$d/api.sock"
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
	api_pids=$(worker_procs api; proto_procs api)
	assert_eq 3 "$(wc -l <<<"$api_pids")" "api's processes"
	sed -i "s|^pool api {|pool new {|; s|$d/api.sock|$d/new.sock|" "$FPMD_CONF"
	run --separate-stderr ctl reload
	[[ $status -eq 0 ]] || fail "exit $status: $stderr"
	assert_eq '["www", "new"]' "$(ctl --json status | json '[p["pool"] for p in d["pools"]]')"
	nginx_start -n new "$d/new.sock"
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
	http "$BASE_URL/ctl/pid.php"
	assert_contains " $(status_pids new) " " $HTTP_BODY:2 " "the worker that answered on new.sock"
	wait_until 10 test ! -e "$d/api.sock" || fail "api.sock still there"
	local p
	for p in $api_pids; do
		wait_until 10 _exited "$p" || fail "process $p of pool api still alive"
	done
	assert_eq "" "$(worker_procs api; proto_procs api)" "processes of pool api"
	# api's workers left quietly when their listener was shut (they
	# used to log "accept: Invalid argument" in a loop until told)
	assert_not_contains "$(cat "$FPMD_LOG")" "accept: Invalid argument"
	wait_until 10 settled 4 || fail "$(ctl status --full)"
	run --separate-stderr ctl scale api 3
	assert_eq 1 "$status"
	assert_contains "$stderr" "(unknown_pool)"
}

@test "fpmctl stop: graceful with a request in flight; fpmd exits 0, no process or socket left" {
	local d=$BATS_TEST_TMPDIR t0 t1 rc=0
	fpmd_conf
	fpmd_start
	nginx_start
	bg_slow slow 3
	t0=$(now_ms)
	"$FPMCTL" -s "$FPMD_CTL" stop >"$d/stop.out" 2>"$d/stop.err" 3>&- &
	BG[stop]=$!
	wait_until 10 count_is stopping eval 'ctl --json status | json "d[\"state\"]"' ||
		fail "status never said stopping"
	# While it stops: ping answers, scale and reload are refused.
	run --separate-stderr ctl ping
	assert_eq 0 "$status" "ping while stopping ($stderr)"
	run --separate-stderr ctl scale www 3
	assert_eq 1 "$status" "scale while stopping ($stderr)"
	assert_contains "$stderr" "(stopping)"
	run --separate-stderr ctl reload
	assert_eq 1 "$status" "reload while stopping ($stderr)"
	assert_contains "$stderr" "(stopping)"
	assert_full_body slow
	wait "${BG[stop]}" || rc=$?
	t1=$(now_ms)
	unset "BG[stop]"
	assert_eq 0 "$rc" "fpmctl stop's exit status ($(cat "$d/stop.err"))"
	assert_contains "$(cat "$d/stop.out")" "fpmd is stopping (graceful)"
	assert_contains "$(cat "$d/stop.out")" "fpmd stopped"
	# fpmctl returned once fpmd had gone
	_exited "$FPMD_PID" || fail "fpmctl stop returned while fpmd still runs"
	fpmd_gone
	[[ ! -e $FPMD_SOCK ]] || fail "$FPMD_SOCK left behind"
	[[ ! -e $FPMD_CTL ]] || fail "$FPMD_CTL left behind"
	run --separate-stderr ctl ping
	assert_eq 3 "$status"
	echo "# stop took $((t1 - t0)) ms" >&3
}

# fcgi_bg NAME SCRIPT QUERY: a request straight to the pool's socket, in
# the background; its body in NAME.body, fcgi-client's exit status in
# NAME.rc.
fcgi_bg() {
	local name=$1 script=$2 q=$3 d=$BATS_TEST_TMPDIR
	(
		"$FPMD_BUILDDIR/t/fcgi-client" -t 60 -b \
			-p "SCRIPT_FILENAME=$WWW_ROOT/$script" \
			-p REQUEST_METHOD=GET -p "REQUEST_URI=/$script?$q" \
			-p "QUERY_STRING=$q" "$FPMD_SOCK" \
			>"$d/$name.body" 2>"$d/$name.err"
		echo $? >"$d/$name.rc"
	) 3>&- &
	BG[$name]=$!
}

# connect_errno PATH: what connect() to the unix socket PATH gives: "ok",
# or the errno's name.
connect_errno() {
	"$PYTHON" - "$1" <<'PY'
import errno, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
try:
    s.connect(sys.argv[1])
    print("ok")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e)))
PY
}

@test "graceful stop on a unix socket (SIGQUIT, fpmctl stop): new connections refused at once, those queued served, then fpmd exits" {
	local d=$BATS_TEST_TMPDIR how n q rc
	for how in SIGQUIT fpmctl; do
		fpmd_conf
		fpmd_start
		# both workers busy, four requests queued behind them
		for n in 1 2; do
			fcgi_bg "$how.s$n" ctl/sleep.php "s=8&n=10&mark=$d/$how.s$n.mark"
		done
		wait_until 15 test -s "$d/$how.s1.mark" -a -s "$d/$how.s2.mark" ||
			fail "$how: the slow requests did not start"
		for q in 1 2 3 4; do
			fcgi_bg "$how.q$q" hello.php "q=$q"
		done
		wait_until 10 count_is 4 eval 'ctl --json status | json "d[\"pools\"][0][\"listen_queue\"]"' ||
			fail "$how: listen_queue $(ctl --json status | json 'd["pools"][0]["listen_queue"]'), expected 4"
		if [[ $how == SIGQUIT ]]; then
			kill -QUIT "$FPMD_PID"
		else
			# it returns once fpmd is gone: in the background
			"$FPMCTL" -s "$FPMD_CTL" stop >"$d/stop.out" 2>&1 3>&- &
			BG[stop]=$!
		fi
		# a balancer's next connection is refused at once (it tries
		# another server), not queued for a reset at the exit
		wait_until 10 count_is ECONNREFUSED connect_errno "$FPMD_SOCK" ||
			fail "$how: connect while stopping: $(connect_errno "$FPMD_SOCK")"
		for n in 1 2; do
			wait "${BG[$how.s$n]}" || true
			unset "BG[$how.s$n]"
			assert_eq 0 "$(cat "$d/$how.s$n.rc")" "$how: slow request $n ($(cat "$d/$how.s$n.err"))"
			assert_match "$(cat "$d/$how.s$n.body")" $'xxxxxxxxxx\nend\nEND_REQUEST id=1 app=0' "$how: slow request $n's body"
		done
		for q in 1 2 3 4; do
			wait "${BG[$how.q$q]}" || true
			unset "BG[$how.q$q]"
			assert_eq 0 "$(cat "$d/$how.q$q.rc")" "$how: queued request $q ($(cat "$d/$how.q$q.err"))"
			assert_match "$(cat "$d/$how.q$q.body")" $'Hello, world!\nEND_REQUEST id=1 app=0' "$how: queued request $q's body"
		done
		if [[ $how == fpmctl ]]; then
			rc=0
			wait "${BG[stop]}" || rc=$?
			unset "BG[stop]"
			assert_eq 0 "$rc" "fpmctl stop ($(cat "$d/stop.out"))"
		fi
		fpmd_gone
		[[ ! -e $FPMD_SOCK ]] || fail "$how: $FPMD_SOCK left behind"
		assert_log_contains "refuses new connections; the 4 queued are served before fpmd exits"
		rm -rf "$d/fpmd.log" "$d/fpmd.conf"
	done
}

@test "an fpmd started on the socket a draining one has shut takes it, and the first one's exit leaves it alone" {
	local d=$BATS_TEST_TMPDIR pid2
	fpmd_conf
	fpmd_start
	# the first fpmd drains for a while: a request in hand
	fcgi_bg slow ctl/sleep.php "s=12&n=10&mark=$d/slow.mark"
	wait_until 15 test -s "$d/slow.mark" || fail "the slow request did not start"
	kill -QUIT "$FPMD_PID"
	wait_until 10 count_is ECONNREFUSED connect_errno "$FPMD_SOCK" ||
		fail "connect while stopping: $(connect_errno "$FPMD_SOCK")"
	# meanwhile a new one, as a supervisor may start it: the path
	# refuses, so it is stale to the new fpmd, which binds its own there
	sed "s|^control.socket = .*|control.socket = \"$d/ctl2.sock\"|" \
		"$FPMD_CONF" >"$d/fpmd2.conf"
	local -a root=()
	((EUID == 0)) && root=(-R)
	_spawn "$d/fpmd2.log" "$FPMD_BIN" -c "$d/fpmd2.conf" "${root[@]}"
	pid2=$SPAWNED_PID
	_wait_ready fpmd2 "$pid2" "$d/fpmd2.log" || fail "the second fpmd did not start"
	proc_alive "$FPMD_PID" ||
		fail "the first fpmd was gone before the second started: nothing tested"
	wait "${BG[slow]}" || true
	unset "BG[slow]"
	assert_eq 0 "$(cat "$d/slow.rc")" "the request in hand ($(cat "$d/slow.err"))"
	fpmd_gone
	# the second fpmd's socket is still there, and serves
	FPMD_PID=$pid2 FPMD_CTL=$d/ctl2.sock FPMD_LOG=$d/fpmd2.log
	[[ -S $FPMD_SOCK ]] || fail "the first fpmd removed the second's socket"
	fcgi_bg after hello.php "after"
	wait "${BG[after]}" || true
	unset "BG[after]"
	assert_eq 0 "$(cat "$d/after.rc")" "a request to the second fpmd ($(cat "$d/after.err"))"
	assert_contains "$(cat "$d/after.body")" "Hello, world!"
}

@test "fpmctl stop --now: exits at once, the request in flight is cut" {
	local t0 t1 d=$BATS_TEST_TMPDIR
	fpmd_conf
	fpmd_start
	nginx_start
	# 20 s: anything well under it is "at once" and "cut", even on a
	# loaded machine
	bg_slow slow 20
	t0=$(now_ms)
	run --separate-stderr ctl stop --now
	t1=$(now_ms)
	assert_eq 0 "$status" "exit status ($stderr)"
	assert_contains "$output" "(now)"
	(((t1 - t0) < 8000)) || fail "stop --now took $((t1 - t0)) ms"
	fpmd_gone
	bg_wait slow
	[[ $BG_CODE != 200 ]] || fail "the request in flight was not cut"
	[[ ! -e $FPMD_SOCK && ! -e $FPMD_CTL ]] || fail "sockets left behind"
}

@test "fpmctl stop --timeout 1: a 20 s request is cut after about 1 s, fpmd exits" {
	local t0 t1 d=$BATS_TEST_TMPDIR
	fpmd_conf
	fpmd_start
	nginx_start
	bg_slow slow 20
	t0=$(now_ms)
	run --separate-stderr ctl stop --timeout 1
	t1=$(now_ms)
	assert_eq 0 "$status" "exit status ($stderr)"
	# bounds far apart enough for a loaded machine, and far below 20 s
	(((t1 - t0) >= 900 && (t1 - t0) < 10000)) || fail "stop --timeout 1 took $((t1 - t0)) ms"
	fpmd_gone
	bg_wait slow
	t1=$(now_ms)
	[[ $BG_CODE != 200 ]] || fail "the request in flight was not cut"
	(((t1 - t0) < 12000)) || fail "the request ended $((t1 - t0)) ms after the stop"
	[[ ! -e $FPMD_SOCK && ! -e $FPMD_CTL ]] || fail "sockets left behind"
}

@test "a request that outlives process_control_timeout after a reload is terminated, and the new generation serves" {
	local t0 t1
	fpmd_conf
	sed -i '1i process_control_timeout = 1' "$FPMD_CONF"
	fpmd_start
	nginx_start
	bg_slow slow 8
	t0=$(now_ms)
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "exit status of reload ($stderr)"
	bg_wait slow
	t1=$(now_ms)
	[[ $BG_CODE != 200 ]] || fail "the old generation's request was not cut"
	(((t1 - t0) < 5000)) || fail "the request ended $((t1 - t0)) ms after the reload"
	wait_log "generation 1 still has requests after process_control_timeout (1s): terminating them" 5
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
	wait_until 10 count_is 2 eval 'worker_procs | wc -l' ||
		fail "$(worker_procs | wc -l) workers, expected 2"
}

@test "a reload whose new workers cannot start gives up at reload_timeout; the old generation serves; the next reload works" {
	((EUID == 0)) || skip "needs root to run the pool as another user"
	local d=$BATS_TEST_TMPDIR/www t0 t1 old
	mkdir -p "$d/ctl"
	cp "$WWW_ROOT/ctl/ok.php" "$d/ctl/"
	open_path "$d"
	chmod -R a+rX "$d"
	# A uid of its own, so that the test knows every process it has.
	fpmd_conf 'user = 47123' 'group = 47123'
	sed -i '1i reload_timeout = 3s' "$FPMD_CONF"
	fpmd_start --no-R
	WWW_ROOT=$d nginx_start
	old=$(status_pids)
	# Generation 1 is 3 processes of uid 47123 (prototype, 2 workers);
	# with a limit of 4, generation 2's prototype can fork no worker
	# (EAGAIN), as when a user's process limit is reached.
	local hard
	hard=$(awk '/^Max processes/ { print $4 }' "/proc/$FPMD_PID/limits")
	prlimit --pid "$FPMD_PID" --nproc=4:
	t0=$(now_ms)
	run --separate-stderr ctl --timeout 30 reload
	t1=$(now_ms)
	assert_eq 1 "$status" "reload with workers that cannot start: $output"
	assert_contains "$stderr" "(reload_timeout)"
	assert_contains "$stderr" "generation 2 did not come up within reload_timeout (3s): pool www: 0 of 2 workers up, and they die at start"
	(((t1 - t0) < 10000)) || fail "the reload took $((t1 - t0)) ms to give up"
	assert_log_contains "reload failed, generation 1 keeps serving"
	assert_log_contains "fork: Resource temporarily unavailable"
	assert_eq "$old" "$(status_pids)" "the serving workers"
	assert_eq 1 "$(generation)"
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
	# Nothing of generation 2 is left, and the next reload is accepted,
	# waited for, and serves.
	wait_until 10 count_is "" proto_procs_gen 2 || fail "generation 2's prototype still runs"
	prlimit --pid "$FPMD_PID" --nproc="$hard":
	run --separate-stderr ctl --timeout 30 reload
	assert_eq 0 "$status" "the next reload: $stderr"
	assert_contains "$output" "generation 2"
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
	wait_until 10 settled 2 || fail "$(ctl status --full)"
}

@test "a reload that fails at reload_timeout is answered to the fpmctl that waits, with the reason" {
	((EUID == 0)) || skip "needs root to run the pool as another user"
	local d=$BATS_TEST_TMPDIR/www
	mkdir -p "$d/ctl"
	cp "$WWW_ROOT/ctl/ok.php" "$d/ctl/"
	open_path "$d"
	chmod -R a+rX "$d"
	fpmd_conf 'user = nobody'
	sed -i '1i reload_timeout = 2s' "$FPMD_CONF"
	fpmd_start --no-R
	slow_startup 3
	run --separate-stderr ctl --timeout 30 reload
	assert_eq 1 "$status" "$output"
	assert_contains "$stderr" "(reload_timeout)"
	assert_contains "$stderr" "generation 2 did not come up within reload_timeout (2s): pool www: PHP has not started"
	assert_eq 1 "$(generation)"
	run --separate-stderr ctl status
	assert_eq 0 "$status"
	assert_contains "$output" "generation 1"
}

proto_procs_gen() {
	procs_titled "fpmd: pool www prototype gen $1"
}

@test "a reload that keeps the address applies the new listen.mode, owner, group and backlog to the socket" {
	((EUID == 0)) || skip "needs root to change the socket's owner"
	local before
	fpmd_conf
	sed -i 's/listen.mode = 0666/listen.mode = 0660/' "$FPMD_CONF"
	fpmd_start
	nginx_start
	assert_eq "660 root root" "$(stat -c '%a %U %G' "$FPMD_SOCK")"
	before=$(stat -c %i "$FPMD_SOCK")
	sed -i 's/listen.mode = 0660/listen.mode = 0666\n    listen.owner = nobody\n    listen.group = nogroup\n    listen.backlog = 17/' "$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "$stderr"
	assert_eq "666 nobody nogroup" "$(stat -c '%a %U %G' "$FPMD_SOCK")" "the socket after the reload"
	assert_eq "$before" "$(stat -c %i "$FPMD_SOCK")" "the same socket, not a new one"
	assert_eq "17" "$(ctl --json status | json 'd["pools"][0]["listen_queue_len"]')" "listen queue len (backlog)"
	assert_eq "0666" "$(ctl --json config | json 'd["config"]["pools"][0]["listen.mode"]')"
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
	# and back: unset owner and group mean fpmd's own
	sed -i '/listen.owner/d; /listen.group/d; /listen.backlog/d' "$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "$stderr"
	assert_eq "666 root root" "$(stat -c '%a %U %G' "$FPMD_SOCK")" "the socket after the second reload"
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
}

@test "reload with a config cut short inside a pool: refused with the lines, the serving generation untouched" {
	local d=$BATS_TEST_TMPDIR before pool php
	fpmd_conf 'php_admin_value {' '    memory_limit = 64M' '}'
	fpmd_start
	nginx_start
	before=$(status_pids)
	# The new file raises pm.max_children, then a partial write stops it
	# inside php_admin_value: read as far as it goes, it would run.
	sed 's/pm.max_children = 2/pm.max_children = 3/' "$FPMD_CONF" >"$d/whole.conf"
	pool=$(grep -n '^pool www {' "$d/whole.conf" | cut -d: -f1)
	php=$(grep -n 'php_admin_value {' "$d/whole.conf" | cut -d: -f1)
	head -n "$((php + 1))" "$d/whole.conf" >"$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 1 "$status" "exit status ($stderr)"
	assert_contains "$stderr" "(config_invalid)"
	assert_contains "$stderr" "$FPMD_CONF:$pool: pool www: the section opened here is not closed by '}'"
	assert_contains "$stderr" "$FPMD_CONF:$php: pool www: php_admin_value: the section opened here"
	assert_eq "" "$output"

	assert_eq 1 "$(generation)" "generation"
	assert_eq "$before" "$(status_pids)" "workers"
	assert_eq running "$(ctl --json status | json 'd["state"]')"
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
	# The whole file: the next reload is generation 2, with 3 workers.
	cp "$d/whole.conf" "$FPMD_CONF"
	run --separate-stderr ctl reload
	[[ $status -eq 0 ]] || fail "exit $status: $stderr"
	assert_eq "reloaded: generation 2" "${output% in *}"
	wait_until 10 settled 3 || fail "$(ctl status --full)"
}

@test "a request sent once fpmctl reload has returned meets the new generation, 15 reloads in a row" {
	local n
	fpmd_conf 'pm.max_children = 4' 'php_admin_value { precision = 5 }'
	fpmd_start
	nginx_start
	for n in $(seq 6 20); do
		sed -i "s/precision = [0-9]*/precision = $n/" "$FPMD_CONF"
		run --separate-stderr ctl reload
		assert_eq 0 "$status" "reload $n: $stderr"
		# new connections, at once, to every worker that may still accept
		assert_body_equals "$BASE_URL/ctl/ini.php?k=precision" "$n"
		assert_body_equals "$BASE_URL/ctl/ini.php?k=precision" "$n"
	done
}

@test "three pools reloaded ten times under load: every old generation goes, nothing is left behind" {
	local d=$BATS_TEST_TMPDIR name n
	fpmd_conf
	for name in api admin; do
		cat >>"$FPMD_CONF" <<CONF
pool $name {
    listen = "$d/$name.sock"
    listen.mode = 0666
    pm = static
    pm.max_children = 2
}
CONF
	done
	fpmd_start
	nginx_start
	load_loop "$BASE_URL/ctl/ok.php" "$d/load.1" &
	BG[load1]=$!
	for n in $(seq 1 10); do
		run --separate-stderr ctl reload
		assert_eq 0 "$status" "reload $n: $stderr"
	done
	touch "$d/stop"
	wait "${BG[load1]}" || true
	unset 'BG[load1]'
	# Old prototypes of the three pools exit in the same rounds: each is
	# collected once, and only the last generation is left.
	wait_until 15 settled 6 || fail "$(ctl status --full)"
	assert_eq 11 "$(generation)"
	assert_eq "" "$(grep -v '^200 ' "$d/load.1" | head -3)" "failed requests under the reloads"
	assert_eq 3 "$(proto_procs | wc -l)"
}

@test "an fpmctl that gives up waiting for a reload: the reload still ends, fpmd answers and reloads again" {
	((EUID == 0)) || skip "needs root to run the pool as another user"
	local hard
	# The reload is held up as above (no worker of generation 2 can
	# fork) so that it outlasts fpmctl's --timeout: fpmctl closes its
	# connection while fpmd still owes it the answer.  fpmd must not
	# answer a client that is gone (under ASan: heap-use-after-free).
	fpmd_conf 'user = 47124' 'group = 47124'
	sed -i '1i reload_timeout = 3s' "$FPMD_CONF"
	fpmd_start --no-R
	hard=$(awk '/^Max processes/ { print $4 }' "/proc/$FPMD_PID/limits")
	prlimit --pid "$FPMD_PID" --nproc=4:
	run --separate-stderr ctl --timeout 1 reload
	[[ $status -ne 0 ]] || fail "the reload cannot have succeeded: $output"
	assert_contains "$stderr" "did not reply within 1 s"
	wait_log "reload failed, generation 1 keeps serving" 15
	prlimit --pid "$FPMD_PID" --nproc="$hard":
	run --separate-stderr ctl ping
	assert_eq 0 "$status" "fpmd after the reload ($stderr)"
	wait_until 10 count_is "" proto_procs_gen 2 || fail "generation 2's prototype still runs"
	run --separate-stderr ctl --timeout 30 reload
	assert_eq 0 "$status" "the next reload: $stderr"
	assert_contains "$output" "generation 2"
}

@test "a reload applies log_level and error_log, which fpmctl config then reports" {
	local dir=$BATS_TEST_TMPDIR
	fpmd_conf
	fpmd_start
	sed -i 's/^log_level = notice/log_level = debug/' "$FPMD_CONF"
	sed -i "1i error_log = \"$dir/new.log\"" "$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "$stderr"
	assert_eq debug "$(ctl --json config | json 'd["config"]["log_level"]')"
	assert_eq "$dir/new.log" "$(ctl --json config | json 'd["config"]["error_log"]')"
	ctl status >/dev/null
	wait_until 5 grep -qsF "DEBUG: control: status from uid" "$dir/new.log" ||
		fail "no debug line in the new error_log: $(cat "$dir/new.log" 2>&1)"
	# and back: notice to stderr again
	sed -i '/^error_log/d; s/^log_level = debug/log_level = notice/' "$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "$stderr"
	ctl status >/dev/null
	ctl reopen-logs >/dev/null
	wait_log "NOTICE: control: reopen-logs from uid" 5
	run ! grep -qF "DEBUG: control: status from uid" "$FPMD_LOG"
}
