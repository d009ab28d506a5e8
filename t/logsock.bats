#!/usr/bin/env bats
# Logs and sockets as php-fpm users know them: error_log = syslog (with
# syslog.facility and syslog.ident), log_limit wrapping long lines,
# log_buffering, listen.acl_users/listen.acl_groups on a unix socket, and
# the read-only status socket (control.status_socket).
#
# syslog: t/syslog-listen.py plays the syslog daemon on a datagram socket
# of the test's own; fpmd is pointed at it by the environment variable
# FPMD_SYSLOG_SOCKET (default /dev/log), which exists for these tests.
# The ACL and peer-credential tests need root (setpriv, a test user).

load helper
bats_require_minimum_version 1.5.0

SYSLOG_PID=
TEST_USER=

teardown() {
	teardown_stack
	if [[ -n $SYSLOG_PID ]]; then
		kill -CONT "$SYSLOG_PID" 2>/dev/null || true
		kill "$SYSLOG_PID" 2>/dev/null || true
		wait "$SYSLOG_PID" 2>/dev/null || true
	fi
	if [[ -n $TEST_USER ]]; then
		userdel "$TEST_USER" 2>/dev/null || true
		if getent group "$TEST_USER" >/dev/null; then
			groupdel "$TEST_USER" 2>/dev/null || true
		fi
	fi
}

# syslog_start: a syslog daemon at $SYSLOG_SOCK writing to $SYSLOG_OUT.
syslog_start() {
	SYSLOG_SOCK=$BATS_TEST_TMPDIR/syslog.sock
	SYSLOG_OUT=$BATS_TEST_TMPDIR/syslog.txt
	"$PYTHON" "$FPMD_SRCDIR/t/syslog-listen.py" "$SYSLOG_SOCK" \
		"$SYSLOG_OUT" 3>&- &
	SYSLOG_PID=$!
	wait_until 10 test -S "$SYSLOG_SOCK" || fail "no syslog socket"
	export FPMD_SYSLOG_SOCKET=$SYSLOG_SOCK
}

syslog_stop() {
	kill -CONT "$SYSLOG_PID" 2>/dev/null || true
	kill "$SYSLOG_PID"
	wait "$SYSLOG_PID" 2>/dev/null || true
	SYSLOG_PID=
}

wait_syslog() {
	wait_until 10 grep -qF -- "$1" "$SYSLOG_OUT" && return 0
	fail "syslog did not get: $1" "$(tail -5 "$SYSLOG_OUT" 2>/dev/null)"
}

# add_global LINE...: global options at the top of the test's config.
add_global() {
	local line
	for line in "$@"; do
		sed -i "1i $line" "$FPMD_CONF"
	done
}

# req_until TAG URL: ask URL until syslog has TAG (lines may be lost while
# fpmd connects again).
req_until() {
	http "$2" >/dev/null 2>&1 || true
	grep -qF -- "$1" "$SYSLOG_OUT"
}

# check_wrapped LOG MARK KIND TEXT LIMIT: the lines of LOG from the one
# with MARK on are TEXT wrapped at LIMIT bytes (newline included): KIND
# php (PHP message) or stderr (a worker's quoted output); every piece has
# the whole prefix, and the pieces put together give TEXT back.
check_wrapped() {
	"$PYTHON" - "$@" <<'PY'
import re, sys
log, mark, kind, text, limit = sys.argv[1:6]
limit = int(limit)
lines = open(log, encoding='utf-8', errors='replace').read().split('\n')
start = next(i for i, l in enumerate(lines) if mark in l)
pre = r'^\[[0-9]{2}-[A-Z][a-z]{2}-[0-9]{4} [0-9:]{8}\] '
if kind == 'php':
    rx = re.compile(pre + r'NOTICE: \[pool www\] pid [0-9]+: (.*)$')
else:
    rx = re.compile(pre + r'WARNING: \[pool www\] child [0-9]+ said into '
                    r'stderr: "(.*)"$')
got = ''
n = 0
for l in lines[start:]:
    m = rx.match(l)
    assert m, 'a piece without the prefix: %r' % l[:120]
    assert len(l) + 1 <= limit, 'a line of %d bytes' % (len(l) + 1)
    got += m.group(1)
    n += 1
    if got.endswith('<END>'):
        break
want = ('PHP message: ' if kind == 'php' else '') + text
assert got == want, 'pieces give %d bytes, want %d' % (len(got), len(want))
# wrapped at the limit, not before: all pieces but the last are full
full = [l for l in lines[start:start + n - 1] if len(l) + 1 < limit - 3]
assert not full, 'a piece shorter than the limit: %d bytes' % len(full[0])
print(n)
PY
}

# line_text TAG N: the text logs/line.php makes.
line_text() {
	local x
	x=$(printf '%*s' $(($2 - ${#1} - 6)) '' | tr ' ' x)
	printf '%s:%s<END>' "$1" "$x"
}

@test "error_log = syslog: facility, ident, pid and php-fpm's [LEVEL]; start-up lines on stderr too, nothing after" {
	local line
	syslog_start
	fpmd_conf 'catch_workers_output = yes'
	add_global 'error_log = syslog' 'syslog.facility = local3' \
		'syslog.ident = fpmd-t'
	fpmd_start
	nginx_start
	wait_syslog "fpmd-t[$FPMD_PID]: [NOTICE] ready to handle connections"
	# local3 is 19: 19 * 8 + notice (5) = 157, + warning (4) = 156
	grep -F "ready to handle connections" "$SYSLOG_OUT" |
		grep -qE '^<157>[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} fpmd-t\['"$FPMD_PID"'\]: ' ||
		fail "$(cat "$SYSLOG_OUT")"
	http "$BASE_URL/logs/line.php?k=php&tag=sl-php"
	http "$BASE_URL/logs/line.php?k=stderr&tag=sl-err"
	wait_syslog "sl-php:"
	wait_syslog "sl-err:"
	line=$(grep -F "sl-php:" "$SYSLOG_OUT")
	assert_match "$line" "^<157>.* fpmd-t\\[$FPMD_PID\\]: \\[NOTICE\\] \\[pool www\\] pid [0-9]+: PHP message: sl-php:x+<END>\$"
	line=$(grep -F "sl-err:" "$SYSLOG_OUT")
	assert_match "$line" "^<156>.* fpmd-t\\[$FPMD_PID\\]: \\[WARNING\\] \\[pool www\\] child [0-9]+ said into stderr: \"sl-err:x+<END>\"\$"
	# a supervisor sees the start-up on stderr, and then nothing
	assert_log_contains "NOTICE: ready to handle connections"
	run ! grep -F "sl-" "$FPMD_LOG"
	assert_eq syslog "$(ctl --json config | json 'd["config"]["error_log"]')"
	assert_eq fpmd-t "$(ctl --json config | json 'd["config"]["syslog.ident"]')"
}

@test "syslog never holds fpmd up: a stopped syslog daemon loses lines (said on stderr), a restarted one is found again" {
	syslog_start
	fpmd_conf
	add_global 'error_log = syslog'
	fpmd_start
	nginx_start
	wait_syslog "fpmd[$FPMD_PID]: [NOTICE] ready to handle connections"
	# the daemon reads nothing: the kernel takes a few lines, fpmd queues
	# some more (1 MiB), in order, and past that drops them
	kill -STOP "$SYSLOG_PID"
	http "$BASE_URL/logs/line.php?k=php&n=1000&count=10000&tag=flood"
	assert_eq 200 "$HTTP_STATUS"
	run --separate-stderr ctl ping
	assert_eq 0 "$status" "$stderr"
	wait_log "fpmd: syslog: "
	assert_log_contains "log line(s) lost (the syslog daemon does not keep up)"
	# what was queued goes out once the daemon reads again
	kill -CONT "$SYSLOG_PID"
	wait_until 10 count_is 1 sh -c "grep -c 'PHP message: flood:' '$SYSLOG_OUT' | awk '{ print (\$1 > 100) }'" ||
		fail "the queued lines did not come: $(grep -c flood: "$SYSLOG_OUT")"
	# it goes away and another takes its place: fpmd connects again
	syslog_stop
	http "$BASE_URL/logs/line.php?k=php&tag=gone" || true
	syslog_start
	wait_until 15 req_until back "$BASE_URL/logs/line.php?k=php&tag=back" ||
		fail "no line reached the new syslog daemon"
	assert_match "$(grep -F 'back:' "$SYSLOG_OUT" | head -1)" "PHP message: back:"
}

@test "a reload moves the log to syslog, changes the ident, and moves it back to a file" {
	local d=$BATS_TEST_TMPDIR
	syslog_start
	fpmd_conf
	fpmd_start
	nginx_start
	add_global 'error_log = syslog'
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "$stderr"
	http "$BASE_URL/logs/line.php?k=php&tag=to-syslog"
	wait_syslog "fpmd[$FPMD_PID]: [NOTICE] [pool www] pid "
	wait_syslog "to-syslog:"
	run ! grep -F "to-syslog" "$FPMD_LOG"
	add_global 'syslog.ident = renamed'
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "$stderr"
	http "$BASE_URL/logs/line.php?k=php&tag=new-ident"
	wait_syslog "new-ident:"
	assert_match "$(grep -F 'new-ident:' "$SYSLOG_OUT")" " renamed\\[$FPMD_PID\\]: \\[NOTICE\\] "
	sed -i "s|^error_log = syslog|error_log = \"$d/file.log\"|" "$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "$stderr"
	assert_eq "$d/file.log" "$(ctl --json config | json 'd["config"]["error_log"]')"
	http "$BASE_URL/logs/line.php?k=php&tag=to-file"
	wait_until 10 grep -qF "to-file:" "$d/file.log" || fail "$(cat "$d/file.log")"
	run ! grep -F "to-file" "$SYSLOG_OUT"
}

@test "log_limit wraps a long PHP message and a long worker line into lines with the prefix, never cuts them" {
	local n
	fpmd_conf 'catch_workers_output = yes'
	add_global 'log_limit = 600'
	fpmd_start
	nginx_start
	assert_eq 600 "$(ctl --json config | json 'd["config"]["log_limit"]')"
	http "$BASE_URL/logs/line.php?k=php&n=2000&tag=lim-php"
	wait_log "<END>"
	n=$(check_wrapped "$FPMD_LOG" "PHP message: lim-php:" php \
		"$(line_text lim-php 2000)" 600) || fail "$(grep -A5 lim-php "$FPMD_LOG")"
	((n >= 4)) || fail "only $n lines"
	http "$BASE_URL/logs/line.php?k=stderr&n=2000&tag=lim-err"
	wait_log '<END>"'
	n=$(check_wrapped "$FPMD_LOG" 'said into stderr: "lim-err:' stderr \
		"$(line_text lim-err 2000)" 600) || fail "$(grep -A5 lim-err "$FPMD_LOG")"
	((n >= 4)) || fail "only $n lines"
}

@test "log_limit is 1024 by default, as in php-fpm, and a reload changes it" {
	fpmd_conf
	fpmd_start
	nginx_start
	http "$BASE_URL/logs/line.php?k=php&n=3000&tag=def-php"
	wait_log "<END>"
	check_wrapped "$FPMD_LOG" "PHP message: def-php:" php \
		"$(line_text def-php 3000)" 1024 >/dev/null ||
		fail "$(grep -A5 def-php "$FPMD_LOG")"
	add_global 'log_limit = 2048'
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "$stderr"
	http "$BASE_URL/logs/line.php?k=php&n=3000&tag=big-php"
	wait_until 10 count_is 2 grep -c "<END>" "$FPMD_LOG"
	check_wrapped "$FPMD_LOG" "PHP message: big-php:" php \
		"$(line_text big-php 3000)" 2048 >/dev/null ||
		fail "$(grep -A5 big-php "$FPMD_LOG")"
}

@test "log_buffering: a line written in pieces is one line; with no, every write is a line; an unfinished one is logged when the worker exits" {
	fpmd_conf 'catch_workers_output = yes' 'pm.max_requests = 1'
	fpmd_start
	nginx_start
	http "$BASE_URL/logs/line.php?k=pieces&tag=buf-on"
	wait_log 'said into stderr: "buf-on:one-two-three<END>"'
	# no newline: kept until the worker (one request each) exits
	http "$BASE_URL/logs/line.php?k=partial&tag=part"
	wait_log "said into stderr: \"$(line_text part 20)\""
	add_global 'log_buffering = no'
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "$stderr"
	assert_eq false "$(ctl --json config | json 'd["config"]["log_buffering"]')"
	http "$BASE_URL/logs/line.php?k=pieces&tag=buf-off"
	wait_log 'said into stderr: "three<END>"'
	assert_log_contains 'said into stderr: "buf-off:one-"'
	assert_log_contains 'said into stderr: "two-"'
}

@test "the new options' errors: FILE:LINE and what to do" {
	local d=$BATS_TEST_TMPDIR
	cat >"$d/bad.conf" <<EOF
log_limit = 100
syslog.facility = bogus
syslog.ident = "a b"
log_buffering = maybe
control.socket = "$d/c.sock"
control.status_socket = "$d/c.sock"
control.status_owner = no-such-user-fpmd
control.status_group = no-such-group-fpmd
pool www {
    listen = "$d/www.sock"
    pm = static
    pm.max_children = 1
    listen.acl_users = "nobody, no-such-user-fpmd"
    listen.acl_groups = no-such-group-fpmd
}
EOF
	run "$FPMD_BIN" -t -c "$d/bad.conf"
	assert_eq 78 "$status" "$output"
	assert_contains "$output" "$d/bad.conf:1: log_limit must be at least 512 (got 100)"
	assert_contains "$output" "$d/bad.conf:2: syslog.facility: 'bogus' is not one of auth, authpriv, cron, daemon"
	assert_contains "$output" "$d/bad.conf:3: syslog.ident: 'a b' must be at most 64 characters, without spaces"
	assert_contains "$output" "$d/bad.conf:4: log_buffering: 'maybe' is not yes or no"
	assert_contains "$output" "$d/bad.conf:6: control.status_socket: '$d/c.sock' is control.socket already"
	assert_contains "$output" "$d/bad.conf:7: control.status_owner: user 'no-such-user-fpmd' does not exist"
	assert_contains "$output" "$d/bad.conf:8: control.status_group: group 'no-such-group-fpmd' does not exist"
	assert_contains "$output" "$d/bad.conf:13: pool www: listen.acl_users: user 'no-such-user-fpmd' does not exist"
	assert_contains "$output" "$d/bad.conf:14: pool www: listen.acl_groups: group 'no-such-group-fpmd' does not exist"
	printf 'error_log = syslog\nlog_format = json\npool www {\n listen = "%s/www.sock"\n pm = static\n pm.max_children = 1\n}\n' "$d" >"$d/json.conf"
	run "$FPMD_BIN" -t -c "$d/json.conf"
	assert_eq 78 "$status" "$output"
	assert_contains "$output" "$d/json.conf:2: log_format = json cannot go to syslog"
}

@test "listen.acl_users/listen.acl_groups: the ACL getfacl shows, owner/group ignored, allowed users in and others out; a reload changes it" {
	[[ $EUID == 0 ]] || skip "needs root (setpriv, a test user)"
	local d=$BATS_TEST_TMPDIR acl
	TEST_USER=fpmdacl$$
	useradd -M -U -r -s /usr/sbin/nologin "$TEST_USER"
	open_path "$d"
	fpmd_conf 'listen.mode = 0660' 'listen.owner = daemon' \
		'listen.acl_users = "nobody"'
	fpmd_start
	assert_log_contains "listen.owner and listen.group are ignored: listen.acl_users/listen.acl_groups are set"
	acl=$(getfacl -cp "$FPMD_SOCK")
	assert_contains "$acl" "user::rw-"
	assert_contains "$acl" "user:nobody:rw-"
	assert_contains "$acl" "mask::rw-"
	assert_contains "$acl" "other::---"
	assert_eq root "$(stat -c %U "$FPMD_SOCK")" "the owner stays fpmd's"
	as_user nobody
	assert_contains "$output" "Hello, world!"
	run ! as_user "$TEST_USER"
	# the group entry, for the test user's group only
	sed -i "s/listen.acl_users = .*/listen.acl_groups = \"$TEST_USER\"/" "$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "$stderr"
	acl=$(getfacl -cp "$FPMD_SOCK")
	assert_contains "$acl" "group:$TEST_USER:rw-"
	assert_not_contains "$acl" "user:nobody"
	as_user "$TEST_USER"
	assert_contains "$output" "Hello, world!"
	run ! as_user nobody
	# no ACL any more: owner and group again
	sed -i '/listen.acl_groups/d' "$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "$stderr"
	assert_eq daemon "$(stat -c %U "$FPMD_SOCK")"
	assert_not_contains "$(getfacl -cp "$FPMD_SOCK")" "group:$TEST_USER"
}

# as_user USER: one FastCGI request for hello.php on the pool's socket, as
# USER (and its group only); output in $output.
as_user() {
	output=$(setpriv --reuid="$1" --regid="$(id -g "$1")" --clear-groups \
		env SCRIPT_FILENAME="$WWW_ROOT/hello.php" REQUEST_METHOD=GET \
		cgi-fcgi -bind -connect "$FPMD_SOCK" 2>&1) || return 1
	[[ $output == *"Hello, world!"* ]]
}

@test "control.status_socket answers ping, status and config, and refuses reload, stop, scale and reopen-logs with read_only" {
	local s=$BATS_TEST_TMPDIR/status.sock cmd
	fpmd_conf 'env { DB_PASSWORD = s3cr3t-db-pass }' \
		'php_admin_value { session.save_path = "tcp://redis:6379?auth=s3cr3t-redis" }'
	add_global "control.status_socket = \"$s\""
	fpmd_start
	assert_eq 0660 "$(printf '%04o' "0$(stat -c %a "$s")")"
	run --separate-stderr "$FPMCTL" --socket "$s" status
	assert_eq 0 "$status" "$stderr"
	assert_contains "$output" "pool:                 www"
	run --separate-stderr "$FPMCTL" -s "$s" ping
	assert_eq 0 "$status" "$stderr"
	run --separate-stderr "$FPMCTL" -s "$s" top -n 1
	assert_eq 0 "$status" "$stderr"
	assert_match "$output" "www +- +0 +2 +2 "
	assert_eq "$s" "$("$FPMCTL" -s "$s" --json config | json 'd["config"]["control.status_socket"]')"
	# env and php.ini values stay on the control socket: names only here
	run --separate-stderr "$FPMCTL" -s "$s" config
	assert_eq 0 "$status" "$stderr"
	assert_not_contains "$output" "s3cr3t"
	assert_contains "$output" "pools.www.env.DB_PASSWORD"
	assert_contains "$output" "(hidden on the status socket)"
	assert_contains "$(ctl config)" "s3cr3t-db-pass"
	assert_contains "$(ctl config)" "s3cr3t-redis"
	for cmd in reload stop "scale www 3" reopen-logs; do
		# shellcheck disable=SC2086
		run --separate-stderr "$FPMCTL" -s "$s" --json $cmd
		assert_eq 1 "$status" "$cmd: $output $stderr"
		assert_eq read_only "$(json 'd["error"]["code"]' <<<"$output")" "$cmd"
	done
	run --separate-stderr "$FPMCTL" -s "$s" reload
	assert_contains "$stderr" "hint: this is fpmd's read-only status socket"
	assert_log_contains "WARNING: control: stop from uid $EUID pid "
	assert_log_contains "refused (read_only)"
	# nothing changed; the control socket still takes them
	assert_eq 2 "$(ctl --json status | json 'd["pools"][0]["max_children"]')"
	run --separate-stderr ctl ping
	assert_eq 0 "$status" "fpmd stopped after all: $stderr"
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "$stderr"
	run --separate-stderr "$FPMCTL" -s "$s" ping
	assert_eq 0 "$status" "the status socket after a reload: $stderr"
}

@test "control.status_socket lets in its owner and group, as the control socket its own, and nobody else" {
	[[ $EUID == 0 ]] || skip "needs root (setpriv)"
	local s=$BATS_TEST_TMPDIR/status.sock
	open_path "$BATS_TEST_TMPDIR"
	fpmd_conf
	add_global "control.status_socket = \"$s\"" 'control.status_mode = 0666'
	fpmd_start
	assert_eq 666 "$(stat -c %a "$s")"
	run --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$FPMCTL" -s "$s" ping
	assert_eq 1 "$status" "$output $stderr"
	assert_contains "$stderr" "may not watch fpmd: it is neither control.status_owner nor in control.status_group"
	assert_log_contains "control: refused uid 65534 pid "
	add_global 'control.status_group = nogroup'
	sed -i 's/^control.status_mode = .*/control.status_mode = 0660/' "$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "$stderr"
	assert_eq 660 "$(stat -c %a "$s")"
	assert_eq nogroup "$(stat -c %G "$s")"
	run --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$FPMCTL" -s "$s" status
	assert_eq 0 "$status" "$stderr"
	assert_contains "$output" "pool:                 www"
	run --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$FPMCTL" -s "$s" stop
	assert_eq 1 "$status"
	assert_contains "$stderr" "(read_only)"
	# and the control socket is still not theirs
	run --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$FPMCTL" -s "$FPMD_CTL" status
	assert_eq 3 "$status" "$stderr"
}
