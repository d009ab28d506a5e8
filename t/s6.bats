#!/usr/bin/env bats
# fpmd under Debian's s6, with contrib/s6/fpmd/ (run with --ready-fd 3 and
# notification-fd, down-signal QUIT, timeout-kill, log/run with s6-log):
# s6-svscan is started by the test on a scan directory of its own (never
# the machine's), and the service driven with s6-svc: up and ready only
# once fpmd serves, on a unix and a TCP socket; s6-svc -d is graceful; a
# restart after kill -9 of the master; s6-svc -2 reloads.

# shellcheck disable=SC2030,SC2031,SC2119,SC2120,SC2153,SC2154

load helper
load supervise
bats_require_minimum_version 1.5.0

setup() {
	command -v s6-svscan >/dev/null || skip "no s6-svscan (apt-get install s6)"
}

teardown() {
	local ret=0
	if [[ -n ${SVSCAN_PID:-} ]]; then
		# s6-svscanctl -t: every service down (down-signal), then exit
		s6-svscanctl -t "$SCAN_DIR" || true
		_stop_daemon s6-svscan "$SVSCAN_PID" TERM "$(t_tmp)/svscan.out" || ret=1
	fi
	teardown_stack || ret=1
	return $ret
}

# svscan_start: s6-svscan on a scan directory holding a copy of
# contrib/s6/fpmd; waits until s6 says the service is up and ready.
svscan_start() {
	local d
	d=$(t_tmp)
	sup_conf
	SCAN_DIR=$d/scan
	SV_DIR=$SCAN_DIR/fpmd
	mkdir -p "$SCAN_DIR"
	sup_install s6/fpmd "$SV_DIR"
	FPMD_LOG=$d/log/current
	_spawn "$d/svscan.out" s6-svscan "$SCAN_DIR"
	SVSCAN_PID=$SPAWNED_PID
	# s6-svscan starts s6-supervise at its first scan
	wait_until 10 test -p "$SV_DIR/supervise/control" ||
		fail "s6-supervise did not start: $(cat "$d/svscan.out")"
	run s6-svwait -U -t 20000 "$SV_DIR"
	if ((status != 0)); then
		_dump_log s6-svscan "$d/svscan.out"
		_dump_log fpmd "$FPMD_LOG"
		fail "not up and ready: $(s6-svstat "$SV_DIR")"
	fi
}

@test "s6: up and ready once fpmd serves, on a unix and a TCP socket; s6-log logs" {
	svscan_start
	# ready means serving: no wait needed
	serves
	run s6-svstat "$SV_DIR"
	assert_match "$output" "^up \(pid $(master_pid)\) [0-9]+ seconds, ready [0-9]+ seconds"
	wait_log "ready to handle connections"
	# s6-log's TAI64N stamp on each line
	assert_match "$(grep -F 'ready to handle connections' "$FPMD_LOG")" '^@4[0-9a-f]{23} \['
}

@test "s6-svc -d is graceful: the request in flight completes" {
	svscan_start
	slow_start slow
	run s6-svc -d "$SV_DIR"
	assert_eq 0 "$status" "$output"
	run s6-svwait -D -t 30000 "$SV_DIR"
	assert_eq 0 "$status" "$output"
	slow_check slow
	assert_log_contains "Finishing ..."
	run grep -c "Terminating" "$FPMD_LOG"
	assert_eq 0 "$output"
	run ctl ping
	assert_eq 3 "$status" "fpmctl ping after the stop: $output"
	run s6-svc -u "$SV_DIR"
	run s6-svwait -U -t 20000 "$SV_DIR"
	assert_eq 0 "$status" "$output"
	serves
}

@test "kill -9 of fpmd: s6-supervise starts it again, serving, with no bind error" {
	svscan_start
	kill9_restart "$FPMD_LOG"
	kill9_restart "$FPMD_LOG"
	run s6-svwait -U -t 20000 "$SV_DIR"
	assert_eq 0 "$status" "$output"
}

@test "s6-svc -2 (USR2) reloads without a restart" {
	svscan_start
	pid=$(master_pid)
	assert_eq 1 "$(generation)"
	run s6-svc -2 "$SV_DIR"
	assert_eq 0 "$status" "$output"
	wait_until 20 count_is 2 generation || fail "generation $(generation)"
	wait_log "reloaded: generation 2 serves"
	assert_eq "$pid" "$(master_pid)"
	serves
	run s6-svc -1 "$SV_DIR"
	wait_log "error log file re-opened"
}
