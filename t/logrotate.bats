#!/usr/bin/env bats
# contrib/logrotate/fpmd.logrotate under Debian's logrotate: the files move, the
# postrotate's `fpmctl reopen-logs` has fpmd open new ones, and no line
# goes to the moved file afterwards or is lost.

# shellcheck disable=SC2030,SC2031,SC2119,SC2120,SC2153,SC2154

load helper
bats_require_minimum_version 1.5.0

CLIENT=$FPMD_BUILDDIR/t/fcgi-client

setup() {
	command -v logrotate >/dev/null || skip "no logrotate (apt-get install logrotate)"
}

teardown() {
	teardown_stack
}

hello() {
	"$CLIENT" -t 10 -b -p "SCRIPT_FILENAME=$WWW_ROOT/hello.php" \
		-p REQUEST_METHOD=GET -p "REQUEST_URI=/hello.php?$1" \
		-p "QUERY_STRING=$1" "$FPMD_SOCK" >/dev/null
}

@test "logrotate with the shipped snippet: fpmd writes to the new files" {
	local d
	d=$(t_tmp)
	mkdir -p "$d/logs"
	fpmd_conf "access.log = \"$d/logs/access.log\"" \
		'access.format = "%m %Q%q %s"'
	sed -i "1i error_log = \"$d/logs/fpmd.log\"" "$FPMD_CONF"
	sed -i "1i control.socket = \"$d/control.sock\"" "$FPMD_CONF"
	export FPMD_CTL=$d/control.sock
	sed -e "s|/var/log/fpmd|$d/logs|g" -e "s|/usr/local/bin/fpmctl|$FPMCTL|g" \
		-e "s|/etc/fpmd.conf|$FPMD_CONF|g" \
		"$FPMD_SRCDIR/contrib/logrotate/fpmd.logrotate" >"$d/logrotate.conf"
	# fpmd_start waits for the ready line in its own log: point it there
	FPMD_LOG=$d/logs/fpmd.log
	_spawn "$d/fpmd.out" "$FPMD_BIN" -c "$FPMD_CONF" $( ((EUID == 0)) && echo -R)
	FPMD_PID=$SPAWNED_PID
	_wait_ready fpmd "$FPMD_PID" "$FPMD_LOG" || { FPMD_PID=; fail "fpmd did not start"; }
	hello before
	wait_until 10 grep -q "GET ?before 200" "$d/logs/access.log"

	run logrotate -v -f -s "$d/logrotate.state" "$d/logrotate.conf"
	assert_eq 0 "$status" "$output"
	[[ -s $d/logs/access.log.1 && -s $d/logs/fpmd.log.1 ]] ||
		fail "not rotated: $(ls -l "$d/logs")"
	# the postrotate ran fpmctl, and fpmd opened new files (logrotate
	# makes none without "create")
	[[ -e $d/logs/fpmd.log && -e $d/logs/access.log ]] ||
		fail "no new files: $(ls -l "$d/logs")"
	hello after
	wait_until 10 grep -q "GET ?after 200" "$d/logs/access.log" ||
		fail "access.log: $(cat "$d/logs/access.log" 2>&1)"
	run grep -c "after" "$d/logs/access.log.1"
	assert_eq 0 "$output"
	run ctl reload
	assert_eq 0 "$status" "$output"
	wait_until 10 grep -q "control: reload from" "$d/logs/fpmd.log" ||
		fail "fpmd.log: $(cat "$d/logs/fpmd.log" 2>&1)"
	run grep -c "control: reload from" "$d/logs/fpmd.log.1"
	assert_eq 0 "$output"
	run grep -c "GET ?before 200" "$d/logs/access.log.1"
	assert_eq 1 "$output"

	# the second time: the first rotated file is compressed (delaycompress)
	hello again
	wait_until 10 grep -q "again" "$d/logs/access.log"
	run logrotate -f -s "$d/logrotate.state" "$d/logrotate.conf"
	assert_eq 0 "$status" "$output"
	[[ -s $d/logs/access.log.2.gz ]] || fail "$(ls -l "$d/logs")"
	assert_eq 1 "$(gzip -dc "$d/logs/access.log.2.gz" | grep -c before)"
	hello last
	wait_until 10 grep -q "last" "$d/logs/access.log" ||
		fail "access.log: $(cat "$d/logs/access.log" 2>&1)"
	run grep -c "last" "$d/logs/access.log.1"
	assert_eq 0 "$output"
}
