#!/usr/bin/env bats
# The log as an operator reads it: PHP messages at their real severity,
# every line of a message with its date and level, workers' starts and
# exits as php-fpm logs them, a reload that applies the log settings (and
# fpmd's own limits), and refused control commands with their reason.

load helper
bats_require_minimum_version 1.5.0

teardown() {
	teardown_stack
}

PREFIX_RE='^\[[0-9]{2}-[A-Z][a-z]{2}-[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{6})?\] (DEBUG|NOTICE|WARNING|ERROR|ALERT): '

# level_of TAG: the level of the log line with "TAG <kind>" in it.
level_of() {
	grep -F "PHP message: " "$FPMD_LOG" | grep -F "$1" | head -1 |
		sed -E 's/^\[[^]]*\] ([A-Z]+): .*/\1/'
}

@test "PHP messages are logged at their severity: fatal ERROR, warning WARNING, notice and deprecated NOTICE" {
	local k
	fpmd_conf 'php_admin_value { error_reporting = -1 }'
	fpmd_start
	nginx_start
	for k in fatal warning notice deprecated errorlog; do
		http "$BASE_URL/feat/levels.php?k=$k&tag=sev-$k" || true
	done
	wait_log "sev-errorlog errorlog"
	assert_eq ERROR "$(level_of 'sev-fatal fatal')" "E_USER_ERROR"
	assert_eq WARNING "$(level_of 'sev-warning warning')" "E_USER_WARNING"
	assert_eq NOTICE "$(level_of 'sev-notice notice')" "E_USER_NOTICE"
	assert_eq NOTICE "$(level_of 'sev-deprecated deprecated')" "E_USER_DEPRECATED"
	assert_eq NOTICE "$(level_of 'sev-errorlog errorlog')" "error_log()"
}

@test "log_level = warning keeps fatal errors and warnings, drops notices" {
	fpmd_conf 'php_admin_value { error_reporting = -1 }'
	fpmd_start
	nginx_start
	# (at start the ready line is a notice: the helper waits for it)
	sed -i 's/^log_level = .*/log_level = warning/' "$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "$stderr"
	http "$BASE_URL/feat/levels.php?k=notice&tag=lvl-n" || true
	http "$BASE_URL/feat/levels.php?k=warning&tag=lvl-w" || true
	http "$BASE_URL/feat/levels.php?k=fatal&tag=lvl-f" || true
	wait_log "lvl-f fatal"
	assert_log_contains "lvl-w warning"
	run ! grep -F "lvl-n notice" "$FPMD_LOG"
}

@test "every line of a multi-line message (an uncaught exception's stack trace) has the date and level" {
	local n
	fpmd_conf
	fpmd_start
	nginx_start
	http "$BASE_URL/feat/levels.php?k=exception&tag=multi" || true
	wait_log "multi exception"
	wait_log "thrown in"
	grep -A3 -F "multi exception" "$FPMD_LOG" | grep -F "#0" |
		grep -qE "${PREFIX_RE}\\[pool www\\] pid [0-9]+: #0 " ||
		fail "the stack trace's first frame has no prefix: $(grep -A3 -F 'multi exception' "$FPMD_LOG")"
	# And the whole log: no line without a prefix.
	n=$(grep -cvE "$PREFIX_RE" "$FPMD_LOG" || true)
	assert_eq 0 "$n" "lines without date and level: $(grep -vE "$PREFIX_RE" "$FPMD_LOG" | head -3)"
}

@test "workers' starts and exits as php-fpm logs them: max_requests recycle, a kill, a respawn" {
	local victim
	fpmd_conf 'pm.max_children = 1' 'pm.max_requests = 2'
	fpmd_start
	nginx_start
	victim=$(http "$BASE_URL/ctl/pid.php" >/dev/null; echo "$HTTP_BODY")
	http "$BASE_URL/ctl/pid.php"
	# the second request was its last: it exits with 0 and a new one starts
	wait_log "NOTICE: [pool www] child $victim exited with code 0 after "
	assert_match "$(grep -F "child $victim exited" "$FPMD_LOG")" "seconds from start$"
	wait_log "NOTICE: [pool www] child "
	grep -qE "NOTICE: \[pool www\] child [0-9]+ started" "$FPMD_LOG" ||
		fail "no notice of the new worker"
	victim=$(worker_pids | head -1)
	kill -KILL "$victim"
	wait_log "WARNING: [pool www] child $victim exited on signal 9 (SIGKILL) after "
}

@test "a reload applies log_level and error_log; fpmctl config says where the log goes" {
	local d=$BATS_TEST_TMPDIR
	fpmd_conf 'php_admin_value { error_reporting = -1 }'
	fpmd_start
	nginx_start
	assert_eq null "$(ctl --json config | json 'd["config"]["error_log"]')"
	sed -i "1i error_log = \"$d/moved.log\"" "$FPMD_CONF"
	sed -i 's/^log_level = .*/log_level = warning/' "$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "$stderr"
	assert_eq "$d/moved.log" "$(ctl --json config | json 'd["config"]["error_log"]')"
	assert_eq warning "$(ctl --json config | json 'd["config"]["log_level"]')"
	http "$BASE_URL/feat/levels.php?k=notice&tag=after-n" || true
	http "$BASE_URL/feat/levels.php?k=warning&tag=after-w" || true
	wait_until 10 grep -qF "after-w warning" "$d/moved.log" ||
		fail "the warning did not reach the new error_log"
	run ! grep -F "after-n notice" "$d/moved.log"
	run ! grep -F "after-w warning" "$FPMD_LOG"
	# An error_log that cannot be opened: the reload is refused, the log
	# stays.
	sed -i "s|^error_log = .*|error_log = \"$d/no/such/dir/x.log\"|" "$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 1 "$status" "$stderr"
	assert_contains "$stderr" "error_log '$d/no/such/dir/x.log' cannot be created: its directory '$d/no/such/dir'"
	assert_eq "$d/moved.log" "$(ctl --json config | json 'd["config"]["error_log"]')" "the log in effect"
}

@test "lines the error log cannot take (a full disk) are counted and told once it takes them again" {
	local d=$BATS_TEST_TMPDIR i
	fpmd_conf
	fpmd_start
	nginx_start
	# /dev/full: every write fails with ENOSPC, as on a full disk
	ln -s /dev/full "$d/full.log"
	sed -i "1i error_log = \"$d/full.log\"" "$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "$stderr"
	for i in 1 2 3 4 5; do
		http "$BASE_URL/feat/errorlog.php?tag=lost$i" || true
	done
	# space again: the same path, a file now, reopened
	rm "$d/full.log"
	: >"$d/full.log"
	run --separate-stderr ctl reopen-logs
	assert_eq 0 "$status" "$stderr"
	wait_until 10 grep -qE "WARNING: [0-9]+ log lines could not be written \(No space left on device\)" "$d/full.log" ||
		fail "no count of the lost lines in $(cat "$d/full.log")"
	local n
	n=$(grep -oE "[0-9]+ log lines could not be written" "$d/full.log" | head -1 | cut -d' ' -f1)
	((n >= 5)) || fail "only $n lines counted lost; 5 PHP messages at least were"
	run ! grep -F "lost1" "$d/full.log"
	# told once: the count starts again
	sleep 2
	assert_eq 1 "$(grep -c "log lines could not be written" "$d/full.log")"
	http "$BASE_URL/feat/errorlog.php?tag=kept" || true
	wait_until 10 grep -qF "kept:" "$d/full.log" || fail "the log takes lines again"
}

@test "rlimit_files applies to fpmd itself, at start and on reload" {
	fpmd_conf
	sed -i '1i rlimit_files = 2000' "$FPMD_CONF"
	fpmd_start
	assert_eq 2000 "$(awk '/^Max open files/ { print $4 }' "/proc/$FPMD_PID/limits")"
	sed -i 's/^rlimit_files = 2000/rlimit_files = 3000/' "$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "$stderr"
	assert_eq 3000 "$(awk '/^Max open files/ { print $4 }' "/proc/$FPMD_PID/limits")"
}

@test "a refused control command is logged with its reason" {
	fpmd_conf
	fpmd_start
	run --separate-stderr ctl scale nosuch 3
	assert_eq 1 "$status"
	wait_log "WARNING: control: scale from uid $EUID pid "
	assert_log_contains "refused (unknown_pool): no pool named 'nosuch'"
}

@test "log_format = json: one JSON object per message, pool and pid, multi-line messages whole; a reload switches the form" {
	local d=$BATS_TEST_TMPDIR pid
	fpmd_conf 'catch_workers_output = yes'
	sed -i '1i log_format = json' "$FPMD_CONF"
	fpmd_start
	nginx_start
	http "$BASE_URL/feat/levels.php?k=exception&tag=jmulti" || true
	pid=$(get_pid_of "$BASE_URL/feat/stderr.php?tag=jout")
	wait_log "jmulti exception"
	wait_log "jout:"
	# every line of the log is one JSON object with the fields
	"$PYTHON" - "$FPMD_LOG" "$pid" <<'PY' || fail "$(tail -5 "$FPMD_LOG")"
import json, sys
path, pid = sys.argv[1], int(sys.argv[2])
recs = [json.loads(l) for l in open(path)]
for r in recs:
    assert set(r) >= {'time', 'level', 'pid', 'message'}, r
    assert r['level'] in ('DEBUG', 'NOTICE', 'WARNING', 'ERROR', 'ALERT'), r
exc = [r for r in recs if 'jmulti exception' in r['message']]
assert len(exc) == 1, exc
assert exc[0]['level'] == 'ERROR' and exc[0]['pool'] == 'www', exc
assert 'Stack trace:' in exc[0]['message'] and '#0' in exc[0]['message'], exc
out = [r for r in recs if 'jout:' in r['message']]
assert out and out[0]['pool'] == 'www' and out[0]['pid'] == pid, out
PY
	assert_eq json "$(ctl --json config | json 'd["config"]["log_format"]')"
	# back to text by a reload: the lines after it are text again
	sed -i '/^log_format/d' "$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "$stderr"
	ctl reopen-logs >/dev/null
	wait_log "NOTICE: control: reopen-logs from uid"
}

# get_pid_of URL: the body (a worker's pid) of URL.
get_pid_of() {
	http "$1" >/dev/null || return 1
	printf '%s\n' "${HTTP_BODY%%$'\n'*}"
}
