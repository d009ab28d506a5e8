#!/usr/bin/env bats
# request_terminate_timeout_track_finished: with it, the terminate timeout
# also covers the script's work after fastcgi_finish_request(), as in
# php-fpm 8; without it (the default) that work runs to its end.

load helper
bats_require_minimum_version 1.5.0

CLIENT=$FPMD_BUILDDIR/t/fcgi-client

setup() {
	[[ -x $CLIENT ]] || fail "no $CLIENT: build it first (make check)"
}

teardown() {
	teardown_stack
}

# finish_then_work SECONDS FILE: a request that is answered at once, then
# works SECONDS more and writes FILE; prints the answer.
finish_then_work() {
	"$CLIENT" -t 20 --body -p "SCRIPT_FILENAME=$WWW_ROOT/crash/finish_sleep.php" \
		-p REQUEST_METHOD=GET -p "QUERY_STRING=s=$1&f=$2" "$FPMD_SOCK" request
}

@test "track_finished = yes: the work after fastcgi_finish_request() is terminated at the timeout" {
	local d out pid
	d=$(t_tmp)
	fpmd_conf 'pm.max_children = 1' 'request_terminate_timeout = 2s' \
		'request_terminate_timeout_track_finished = yes'
	fpmd_start
	pid=$(worker_procs)
	out=$(finish_then_work 6 "$d/done")
	assert_contains "$out" "finished"
	wait_log "WARNING: [pool www] child $pid, script '$WWW_ROOT/crash/finish_sleep.php' (request: \"GET ?s=6&f=$d/done\") execution timed out" 10
	wait_log "child $pid exited on signal 15 (SIGTERM)"
	[[ ! -e $d/done ]] || fail "the work ran to its end"
	assert_eq true "$(ctl --json config | json 'str(d["config"]["pools"][0]["request_terminate_timeout_track_finished"]).lower()')"
}

@test "track_finished = no (the default): the work after fastcgi_finish_request() runs past the timeout" {
	local d out pid
	d=$(t_tmp)
	fpmd_conf 'pm.max_children = 1' 'request_terminate_timeout = 2s'
	fpmd_start
	pid=$(worker_procs)
	out=$(finish_then_work 4 "$d/done")
	assert_contains "$out" "finished"
	wait_until 15 test -e "$d/done" || fail "the work did not finish: $(cat "$FPMD_LOG")"
	! grep -q 'execution timed out' "$FPMD_LOG"
	assert_eq "$pid" "$(worker_procs)" "the same worker"
}

@test "track_finished = yes does not cut a request that ends in time" {
	local d out pid
	d=$(t_tmp)
	fpmd_conf 'pm.max_children = 1' 'request_terminate_timeout = 5s' \
		'request_terminate_timeout_track_finished = yes'
	fpmd_start
	pid=$(worker_procs)
	out=$(finish_then_work 1 "$d/done")
	assert_contains "$out" "finished"
	wait_until 15 test -e "$d/done" || fail "the work did not finish"
	! grep -q 'execution timed out' "$FPMD_LOG"
	assert_eq "$pid" "$(worker_procs)" "the same worker"
}

@test "request_terminate_timeout_track_finished: not yes or no is refused at its line" {
	fpmd_conf 'request_terminate_timeout_track_finished = maybe'
	run "$FPMD_BIN" -t -R -c "$FPMD_CONF"
	assert_eq 78 "$status" "$output"
	assert_contains "$output" "pool www: request_terminate_timeout_track_finished: 'maybe' is not yes or no"
}
