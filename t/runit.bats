#!/usr/bin/env bats
# fpmd under Debian's runit, with contrib/runit/fpmd/ (run, log/run with
# svlogd, control/t for a graceful down, control/h for a reload, check):
# runsv is started by the test on a copy of that directory (never the
# machine's runsvdir), and driven with sv: start and serve on a unix and a
# TCP socket, sv down is graceful, a restart after kill -9 of the master,
# sv 2 and sv hup reload.

# shellcheck disable=SC2030,SC2031,SC2119,SC2120,SC2153,SC2154

load helper
load supervise
bats_require_minimum_version 1.5.0

setup() {
	command -v runsv >/dev/null || skip "no runsv (apt-get install runit)"
}

teardown() {
	local ret=0
	if [[ -n ${RUNSV_PID:-} ]]; then
		# TERM: runsv takes the service down (control/t) and exits
		_stop_daemon runsv "$RUNSV_PID" TERM "$(t_tmp)/runsv.out" || ret=1
	fi
	teardown_stack || ret=1
	return $ret
}

# runsv_start: runsv on a copy of contrib/runit/fpmd.
runsv_start() {
	local d
	d=$(t_tmp)
	sup_conf
	SV_DIR=$d/fpmd
	sup_install runit/fpmd "$SV_DIR"
	FPMD_LOG=$d/log/current
	_spawn "$d/runsv.out" runsv "$SV_DIR"
	RUNSV_PID=$SPAWNED_PID
	wait_serving || {
		_dump_log runsv "$d/runsv.out"
		_dump_log fpmd "$FPMD_LOG"
		return 1
	}
}

@test "runsv starts fpmd, which serves on a unix and a TCP socket; svlogd logs" {
	runsv_start
	run sv status "$SV_DIR"
	assert_match "$output" "^run: $SV_DIR: \(pid $(master_pid)\)"
	assert_match "$output" "; run: log: \(pid [0-9]+\)"
	# the check script: sv waits for a fpmd that answers
	run sv -w 10 check "$SV_DIR"
	assert_eq 0 "$status" "$output"
	# svlogd's file, each line with its timestamp
	wait_log "ready to handle connections"
	assert_match "$(grep -F 'ready to handle connections' "$FPMD_LOG")" \
		'^[0-9]{4}-[0-9]{2}-[0-9]{2}_[0-9:.]+ \['
}

@test "sv down is graceful: the request in flight completes" {
	runsv_start
	slow_start slow
	run sv -w 30 down "$SV_DIR"
	assert_eq 0 "$status" "$output"
	assert_match "$output" "^ok: down: $SV_DIR"
	slow_check slow
	assert_log_contains "Finishing ..."
	# control/t sent QUIT and runsv no TERM: no "Terminating"
	run grep -c "Terminating" "$FPMD_LOG"
	assert_eq 0 "$output"
	run ctl ping
	assert_eq 3 "$status" "fpmctl ping after the stop: $output"
	run sv -w 30 up "$SV_DIR"
	assert_eq 0 "$status" "$output"
	wait_serving
}

@test "kill -9 of fpmd: runsv starts it again, serving, with no bind error" {
	runsv_start
	kill9_restart "$FPMD_LOG"
	kill9_restart "$FPMD_LOG"
	run sv status "$SV_DIR"
	assert_match "$output" "^run: $SV_DIR: \(pid $(master_pid)\)"
}

@test "sv 2 and sv hup reload without a restart" {
	runsv_start
	pid=$(master_pid)
	assert_eq 1 "$(generation)"
	# hup: control/h runs fpmctl reload, which waits for the outcome
	run sv hup "$SV_DIR"
	assert_eq 0 "$status" "$output"
	assert_eq 2 "$(generation)"
	wait_log "reloaded: generation 2 in"
	# 2: USR2, which returns at once
	run sv 2 "$SV_DIR"
	assert_eq 0 "$status" "$output"
	wait_until 20 count_is 3 generation || fail "generation $(generation)"
	wait_log "reloaded: generation 3 serves"
	assert_eq "$pid" "$(master_pid)"
	serves
	# fpmd ignores a bare HUP, and says so: control/h spared it that
	run grep -c "SIGHUP ignored" "$FPMD_LOG"
	assert_eq 0 "$output"
	run sv 1 "$SV_DIR"
	wait_log "error log file re-opened"
}
