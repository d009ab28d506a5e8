#!/usr/bin/env bats
# fpmd under Debian's supervisord, with contrib/supervisord/fpmd.conf:
# start and serve on a unix and a TCP socket, a graceful stop, a restart
# after kill -9 of the master, and a reload by `supervisorctl signal USR2`.
# supervisord runs in the foreground (-n) with its own configuration,
# socket and logs in the test's directory.

# shellcheck disable=SC2030,SC2031,SC2119,SC2120,SC2153,SC2154

load helper
load supervise
bats_require_minimum_version 1.5.0

setup() {
	command -v supervisord >/dev/null ||
		skip "no supervisord (apt-get install supervisor)"
}

teardown() {
	local ret=0
	if [[ -n ${SUPD_PID:-} ]]; then
		# TERM: supervisord stops fpmd (QUIT) and exits
		_stop_daemon supervisord "$SUPD_PID" TERM "$(t_tmp)/supervisord.log" || ret=1
	fi
	teardown_stack || ret=1
	return $ret
}

# supd_start: supervisord with the shipped program section.
supd_start() {
	local d
	d=$(t_tmp)
	sup_conf
	mkdir -p "$d/conf.d"
	sup_install supervisord/fpmd.conf "$d/conf.d/fpmd.conf"
	SUPD_CONF=$d/supervisord.conf
	cat >"$SUPD_CONF" <<EOF
[unix_http_server]
file = $d/supervisor.sock

[supervisord]
nodaemon = true
logfile = $d/supervisord.log
pidfile = $d/supervisord.pid
childlogdir = $d
user = root

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl = unix://$d/supervisor.sock

[include]
files = $d/conf.d/*.conf
EOF
	((EUID == 0)) || sed -i '/^user = root/d' "$SUPD_CONF"
	_spawn "$d/supervisord.out" supervisord -n -c "$SUPD_CONF"
	SUPD_PID=$SPAWNED_PID
	FPMD_LOG=$d/fpmd.log
	wait_serving || {
		_dump_log supervisord "$d/supervisord.log"
		_dump_log fpmd "$FPMD_LOG"
		return 1
	}
}

supctl() {
	supervisorctl -c "$SUPD_CONF" "$@"
}

# supd_state STATE: supervisord says fpmd is in STATE (RUNNING once it
# has run startsecs).
supd_state() {
	[[ $(supctl status fpmd) =~ ^fpmd\ +$1 ]]
}

@test "supervisord starts fpmd, which serves on a unix and a TCP socket" {
	supd_start
	wait_until 10 supd_state RUNNING || fail "$(supctl status fpmd)"
	run supctl status fpmd
	assert_match "$output" '^fpmd +RUNNING +pid [0-9]+'
	[[ $output == *"pid $(master_pid),"* ]] ||
		fail "supervisord's pid is not the master's: $output"
	wait_log "ready to handle connections"
}

@test "supervisorctl stop is graceful: the request in flight completes" {
	supd_start
	slow_start slow
	run supctl stop fpmd
	assert_contains "$output" "fpmd: stopped"
	slow_check slow
	assert_log_contains "Finishing ..."
	run supctl status fpmd
	assert_match "$output" '^fpmd +STOPPED'
	run ctl ping
	assert_eq 3 "$status" "fpmctl ping after the stop: $output"
	# and it starts again
	run supctl start fpmd
	assert_contains "$output" "fpmd: started"
	wait_serving
}

@test "kill -9 of fpmd: supervisord starts it again, serving, with no bind error" {
	supd_start
	# RUNNING: past startsecs, a death is a crash to restart at once (in
	# STARTING it is a failed start, retried after a back-off)
	wait_until 10 supd_state RUNNING || fail "$(supctl status fpmd)"
	kill9_restart "$FPMD_LOG"
	wait_until 10 supd_state RUNNING || fail "$(supctl status fpmd)"
	# and once more: the second restart finds its sockets free too
	kill9_restart "$FPMD_LOG"
}

@test "supervisorctl signal USR2 reloads without a restart" {
	supd_start
	pid=$(master_pid)
	assert_eq 1 "$(generation)"
	run supctl signal USR2 fpmd
	assert_eq 0 "$status" "$output"
	wait_until 20 count_is 2 generation || fail "generation $(generation)"
	wait_log "reloaded: generation 2 serves"
	assert_eq "$pid" "$(master_pid)"
	serves
	run supctl signal USR1 fpmd
	assert_eq 0 "$status" "$output"
	wait_log "error log file re-opened"
}
