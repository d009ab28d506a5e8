#!/usr/bin/env bats
# fpmd under systemd, without systemd: the test plays its part.
#
# Type=notify: t/notifyd.py binds the socket NOTIFY_SOCKET names and logs
# each datagram with its sender's pid; the test checks the sequence
# (READY=1 once every pool serves, RELOADING=1 ... READY=1 around a reload
# whatever it comes to, STOPPING=1, WATCHDOG=1 with WATCHDOG_USEC) and
# that fpmd never waits for a supervisor that does not read.  s6's readiness fd (--ready-fd) is here
# too, through a fifo.
#
# Socket activation: t/launcher.py binds the sockets as a .socket unit
# would, runs fpmd with them as descriptors 3... and LISTEN_* set, and
# keeps them across fpmd's restarts, so a request sent while fpmd is down
# is served when it is back.

# shellcheck disable=SC2030,SC2031,SC2119,SC2120,SC2153,SC2154

load helper
bats_require_minimum_version 1.5.0

CLIENT=$FPMD_BUILDDIR/t/fcgi-client

teardown() {
	local ret=0
	if [[ -n ${LAUNCHER_PID:-} ]]; then
		_stop_daemon launcher "$LAUNCHER_PID" TERM "$LAUNCHER_LOG" || ret=1
	fi
	teardown_stack || ret=1
	return $ret
}

# notifyd_start [--no-read] ADDRESS: the supervisor's notify socket; its
# datagrams go to $(t_tmp)/notify.out.  Exports NOTIFY_SOCKET.
notifyd_start() {
	local d
	d=$(t_tmp)
	NOTIFY_OUT=$d/notify.out
	"$PYTHON" "$FPMD_SRCDIR/t/notifyd.py" "$@" "$NOTIFY_OUT" 3>&- &
	BG[notifyd]=$!
	wait_until 10 test -e "$NOTIFY_OUT" || fail "notifyd did not start"
	export NOTIFY_SOCKET=${*: -1}
}

# notes: the datagrams so far, one a line, newlines as '|'.
notes() {
	cut -f2- "$NOTIFY_OUT"
}

# senders: the pids that sent them, each once.
senders() {
	cut -f1 "$NOTIFY_OUT" | sort -u
}

# notes_count PATTERN: how many datagrams match the extended regex.
notes_count() {
	notes | grep -cE -- "$1" || true
}

# notes_at_least N PATTERN: N datagrams or more match PATTERN.
notes_at_least() {
	(($(notes_count "$2") >= $1))
}

# wait_note N PATTERN: until N datagrams match PATTERN.
wait_note() {
	wait_until 20 count_is "$1" notes_count "$2" && return 0
	echo "expected $1 datagram(s) matching: $2; got:" >&2
	notes >&2
	_dump_log fpmd "${FPMD_LOG:-$LAUNCHER_LOG}"
	return 1
}

# get SOCKET SCRIPT [PARAM...]: the body of a GET of SCRIPT (under
# t/data/www) over SOCKET (a unix path or HOST:PORT).
get() {
	local sock=$1 script=$2 p
	local -a params=(-p "SCRIPT_FILENAME=$WWW_ROOT/$script" -p REQUEST_METHOD=GET)
	shift 2
	for p in "$@"; do
		params+=(-p "$p")
	done
	"$CLIENT" -t 20 -b "${params[@]}" "$sock"
}

# launcher_start NAME=ADDRESS... [-- FPMD_ARGS...]: fpmd with those
# sockets passed, its output in $(t_tmp)/launcher.log; waits for the ready
# line.  Sets LAUNCHER_PID, LAUNCHER_LOG and FPMD_PIDFILE.
launcher_start() {
	local d
	local -a socks=() extra=() pre=()
	d=$(t_tmp)
	while (($#)) && [[ $1 != -- ]]; do
		if [[ $1 == --* ]]; then pre+=("$1"); else socks+=("$1"); fi
		shift
	done
	(($#)) && shift
	extra=("$@")
	((EUID == 0)) && extra+=(-R)
	if ! grep -q '^control\.socket' "$FPMD_CONF"; then
		sed -i "1i control.socket = \"$d/control.sock\"" "$FPMD_CONF"
	fi
	export FPMD_CTL=$d/control.sock
	LAUNCHER_LOG=$d/launcher.log
	FPMD_PIDFILE=$d/fpmd.pid
	_spawn "$LAUNCHER_LOG" "$PYTHON" "$FPMD_SRCDIR/t/launcher.py" \
		--pid-file "$FPMD_PIDFILE" "${pre[@]}" "${socks[@]}" -- \
		"$FPMD_BIN" -c "$FPMD_CONF" "${extra[@]}"
	LAUNCHER_PID=$SPAWNED_PID
	wait_ready_count 1
}

# wait_ready_count N: the launcher's log has N ready lines (N starts).
ready_count() {
	grep -cF "$READY_LINE" "$LAUNCHER_LOG" || true
}
wait_ready_count() {
	wait_until "$START_TIMEOUT" count_is "$1" ready_count && return 0
	_dump_log launcher "$LAUNCHER_LOG"
	fail "fpmd under the launcher: not ready ($1) within ${START_TIMEOUT}s"
}

# listen_queue PATH_OR_PORT: connections waiting on the listening socket.
listen_queue() {
	if [[ $1 == /* ]]; then
		ss -Hlx | awk -v p="$1" '$5 == p { print $3 }'
	else
		ss -Hltn "sport = :$1" | awk '{ print $2 }'
	fi
}

# ------------------------------------------------------- Type=notify -----

@test "READY=1 once every pool serves, sent by the master, with a status line" {
	notifyd_start "$(t_tmp)/notify.sock"
	fpmd_conf
	cat >>"$FPMD_CONF" <<EOF
pool api {
    listen = "$(t_tmp)/api.sock"
    pm = dynamic
    pm.max_children = 3
    pm.start_servers = 2
    pm.min_spare_servers = 1
    pm.max_spare_servers = 2
}
EOF
	fpmd_start
	wait_note 1 '^READY=1'
	# ready means serving: both pools answer at once
	run get "$FPMD_SOCK" hello.php
	assert_contains "$output" "Hello, world!"
	run get "$(t_tmp)/api.sock" hello.php
	assert_contains "$output" "Hello, world!"
	assert_eq "READY=1|STATUS=Ready: 2 pools, 4 workers (0 active, 4 idle), generation 1" \
		"$(notes | head -1)"
	assert_eq "$FPMD_PID" "$(senders)" "the sender of every datagram"
	assert_eq 1 "$(notes_count '^READY=1')"
}

@test "a reload: RELOADING=1 with MONOTONIC_USEC=, then READY=1 with the new generation" {
	notifyd_start "$(t_tmp)/notify.sock"
	fpmd_conf
	fpmd_start
	wait_note 1 '^READY=1'
	run ctl reload
	assert_eq 0 "$status" "$output"
	wait_note 2 '^READY=1'
	run notes
	assert_match "${lines[1]}" '^RELOADING=1\|MONOTONIC_USEC=[0-9]+\|STATUS=Reloading'
	# the old generation's workers count until they have gone
	assert_match "${lines[2]}" \
		'^READY=1\|STATUS=Reloaded: 1 pool, [234] workers \(0 active, [234] idle\), generation 2$'
	# CLOCK_MONOTONIC, as systemd compares it: not in the future, recent
	usec=$(sed -n 's/.*MONOTONIC_USEC=\([0-9]*\).*/\1/p' <<<"${lines[1]}")
	now=$("$PYTHON" -c 'import time; print(int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6))')
	((usec <= now && now - usec < 60000000)) ||
		fail "MONOTONIC_USEC=$usec, CLOCK_MONOTONIC now $now"
	# SIGUSR2 the same way
	kill -USR2 "$FPMD_PID"
	wait_note 3 '^READY=1'
	assert_eq 2 "$(notes_count '^RELOADING=1')"
	assert_contains "$(notes | tail -1)" "generation 3"
	assert_eq "$FPMD_PID" "$(senders)"
}

@test "a refused reload says so: RELOADING=1, then READY=1 with the reason" {
	notifyd_start "$(t_tmp)/notify.sock"
	fpmd_conf
	fpmd_start
	wait_note 1 '^READY=1'
	cp "$FPMD_CONF" "$FPMD_CONF.good"
	echo 'pm.max_chidlren = 4' >>"$FPMD_CONF"
	run ctl reload
	assert_eq 1 "$status" "$output"
	wait_note 2 '^READY=1'
	run notes
	assert_match "${lines[1]}" '^RELOADING=1\|'
	assert_match "${lines[2]}" "^READY=1\|STATUS=Reload failed \(.*fpmd.conf has errors; nothing was changed\); serving: 1 pool, 2 workers .*generation 1\$"
	# by signal, the same; then a good one goes through
	kill -USR2 "$FPMD_PID"
	wait_note 3 '^READY=1'
	assert_match "$(notes | tail -1)" 'Reload failed'
	cp "$FPMD_CONF.good" "$FPMD_CONF"
	run ctl reload
	assert_eq 0 "$status" "$output"
	wait_note 4 '^READY=1'
	assert_match "$(notes | tail -1)" '^READY=1\|STATUS=Reloaded: .*generation 2$'
	# every RELOADING=1 was answered
	assert_eq 3 "$(notes_count '^RELOADING=1')"
}

@test "a reload whose PHP start-up fails: READY=1 again, the old generation serving" {
	notifyd_start "$(t_tmp)/notify.sock"
	fpmd_conf
	fpmd_start
	wait_note 1 '^READY=1'
	((EUID == 0)) || skip "needs root: a php.ini the pool's user cannot read"
	# a php_ini fpmd can read but the pool's user cannot: the prototype
	# of the new generation refuses it
	cp "$PHP_INI" "$(t_tmp)/private.ini"
	chmod 600 "$(t_tmp)/private.ini"
	sed -i "s|^    pm = static|    user = nobody\n    php_ini = \"$(t_tmp)/private.ini\"\n    pm = static|" "$FPMD_CONF"
	run ctl reload
	assert_eq 1 "$status" "$output"
	wait_note 2 '^READY=1'
	assert_match "$(notes | tail -1)" '^READY=1\|STATUS=Reload failed \(.*\); serving: .*generation 1$'
	run get "$FPMD_SOCK" hello.php
	assert_contains "$output" "Hello, world!"
}

@test "STOPPING=1 on a graceful stop, once, and nothing after it" {
	notifyd_start "$(t_tmp)/notify.sock"
	fpmd_conf
	fpmd_start
	wait_note 1 '^READY=1'
	fpmd_stop
	assert_eq 1 "$(notes_count '^STOPPING=1')"
	assert_match "$(notes | tail -1)" '^STOPPING=1\|STATUS=Stopping'
}

@test "STOPPING=1 on fpmctl stop too" {
	notifyd_start "$(t_tmp)/notify.sock"
	fpmd_conf
	fpmd_start
	wait_note 1 '^READY=1'
	run ctl stop
	assert_eq 0 "$status" "$output"
	wait_note 1 '^STOPPING=1'
	wait_until "$STOP_TIMEOUT" _exited "$FPMD_PID"
	wait "$FPMD_PID"
	FPMD_PID=
}

@test "STATUS= follows the workers: a request running shows as active" {
	notifyd_start "$(t_tmp)/notify.sock"
	fpmd_conf
	fpmd_start
	wait_note 1 '^READY=1'
	get "$FPMD_SOCK" ctl/sleep.php "QUERY_STRING=s=4&n=10" >"$(t_tmp)/slow.out" 3>&- &
	BG[slow]=$!
	wait_note 1 '^STATUS=Serving: 1 pool, 2 workers \(1 active, 1 idle\), generation 1$'
	wait "${BG[slow]}"
	unset 'BG[slow]'
	assert_contains "$(cat "$(t_tmp)/slow.out")" "end"
	wait_note 1 '^STATUS=Serving: 1 pool, 2 workers \(0 active, 2 idle\), generation 1$'
}

@test "WatchdogSec=: WATCHDOG=1 at half WATCHDOG_USEC, from the master; PHP sees neither" {
	notifyd_start "$(t_tmp)/notify.sock"
	fpmd_conf 'clear_env = no'
	# 0.4 s: a ping every 200 ms
	export WATCHDOG_USEC=400000
	fpmd_start
	wait_note 1 '^READY=1'
	wait_until 20 notes_at_least 5 '^WATCHDOG=1$' || fail "$(notes)"
	assert_eq "$FPMD_PID" "$(senders)"
	run get "$FPMD_SOCK" feat/env.php QUERY_STRING=k=WATCHDOG_USEC,WATCHDOG_PID
	assert_contains "$output" "WATCHDOG_USEC=false"
	assert_contains "$output" "WATCHDOG_PID=false"
}

@test "WATCHDOG_PID of another process: no WATCHDOG=1; a bad WATCHDOG_USEC is said" {
	notifyd_start "$(t_tmp)/notify.sock"
	fpmd_conf
	export WATCHDOG_USEC=400000 WATCHDOG_PID=1
	fpmd_start
	wait_note 1 '^READY=1'
	# the status line comes at a tick (1 s) after a request: by then a
	# watchdog at 200 ms would have pinged several times
	get "$FPMD_SOCK" ctl/sleep.php "QUERY_STRING=s=1.5&n=10" >/dev/null
	wait_note 1 '\(1 active'
	assert_eq 0 "$(notes_count '^WATCHDOG=1')"
	fpmd_stop
	rm -f "$FPMD_LOG"
	export WATCHDOG_USEC=soon
	unset WATCHDOG_PID
	fpmd_start
	assert_log_contains "WATCHDOG_USEC=soon is not a number of microseconds"
}

@test "an abstract NOTIFY_SOCKET (@name) works the same" {
	notifyd_start "@fpmd-test-$$-$RANDOM"
	fpmd_conf
	fpmd_start
	wait_note 1 '^READY=1\|STATUS=Ready: 1 pool'
	assert_eq "$FPMD_PID" "$(senders)"
}

@test "PHP never sees NOTIFY_SOCKET, even with clear_env = no" {
	notifyd_start "$(t_tmp)/notify.sock"
	fpmd_conf 'clear_env = no'
	export FPMD_TEST_MARK=seen
	fpmd_start
	run get "$FPMD_SOCK" feat/env.php QUERY_STRING=k=NOTIFY_SOCKET,FPMD_TEST_MARK
	assert_contains "$output" "NOTIFY_SOCKET=false"
	assert_contains "$output" "FPMD_TEST_MARK='seen'"
}

@test "a supervisor that does not read never holds fpmd up" {
	notifyd_start --no-read "$(t_tmp)/notify.sock"
	fpmd_conf
	fpmd_start
	# each reload is two datagrams, more than the socket's queue takes
	for i in $(seq 1 12); do
		run ctl --timeout 10 reload
		assert_eq 0 "$status" "reload $i: $output"
	done
	run get "$FPMD_SOCK" hello.php
	assert_contains "$output" "Hello, world!"
	run ctl ping
	assert_eq 0 "$status" "$output"
}

@test "a NOTIFY_SOCKET fpmd cannot use is said, and fpmd serves" {
	export NOTIFY_SOCKET=relative/notify.sock
	fpmd_conf
	fpmd_start
	assert_log_contains "NOTIFY_SOCKET 'relative/notify.sock' is neither an absolute path"
	fpmd_stop
	rm -f "$FPMD_LOG"
	export NOTIFY_SOCKET=$(t_tmp)/nobody.sock
	fpmd_start
	wait_log "NOTIFY_SOCKET '$(t_tmp)/nobody.sock': the supervisor was not told 'READY=1'"
	run get "$FPMD_SOCK" hello.php
	assert_contains "$output" "Hello, world!"
	run ctl reload
	assert_eq 0 "$status" "$output"
	# said once, not at every message
	assert_eq 1 "$(grep -c 'the supervisor was not told' "$FPMD_LOG")"
}

# ------------------------------------------------------ s6 readiness -----

@test "--ready-fd: a newline once every pool serves, then the descriptor is closed" {
	local d
	d=$(t_tmp)
	fpmd_conf
	mkfifo "$d/ready"
	cat "$d/ready" >"$d/ready.out" 3>&- &
	BG[reader]=$!
	exec 7>"$d/ready"
	fpmd_start --ready-fd 7
	exec 7>&-
	# cat ends only when no process holds the fifo open: not a worker either
	wait_until 10 _exited "${BG[reader]}" || fail "the ready fd is still open"
	wait "${BG[reader]}"
	unset 'BG[reader]'
	assert_eq 1 "$(stat -c %s "$d/ready.out")"
	assert_eq "" "$(tr -d '\n' <"$d/ready.out")"
	run get "$FPMD_SOCK" hello.php
	assert_contains "$output" "Hello, world!"
}

@test "--ready-fd that is not open is a usage error" {
	fpmd_conf
	run -64 "$FPMD_BIN" -c "$FPMD_CONF" --ready-fd 9 9>&-
	assert_contains "$output" "--ready-fd 9: not an open descriptor"
	run -64 "$FPMD_BIN" -c "$FPMD_CONF" --ready-fd x
	assert_contains "$output" "--ready-fd x"
}

# -------------------------------------------------- socket activation -----

@test "a passed socket named after its pool is used instead of binding" {
	local d
	d=$(t_tmp)
	fpmd_conf
	launcher_start "www=$d/act.sock"
	run get "$d/act.sock" hello.php
	assert_contains "$output" "Hello, world!"
	[[ ! -e $FPMD_SOCK ]] || fail "fpmd bound $FPMD_SOCK too"
	grep -qF "[pool www] listening on '$d/act.sock', the socket the supervisor passed as 'www' (descriptor 3), instead of '$FPMD_SOCK'" \
		"$LAUNCHER_LOG" || fail "$(cat "$LAUNCHER_LOG")"
	# a reload keeps it, and a second one too
	run ctl reload
	assert_eq 0 "$status" "$output"
	run ctl reload
	assert_eq 0 "$status" "$output"
	run get "$d/act.sock" hello.php
	assert_contains "$output" "Hello, world!"
	[[ -S $d/act.sock ]] || fail "the socket's path went away"
}

@test "a passed socket is matched by its address; one nobody wants is closed" {
	local d port
	d=$(t_tmp)
	port=$(free_port)
	fpmd_conf
	cat >>"$FPMD_CONF" <<EOF
pool api {
    listen = 127.0.0.1:$port
    pm = static
    pm.max_children = 1
}
EOF
	# fpmd.socket: what systemd names a socket without FileDescriptorName=
	launcher_start "fpmd.socket=127.0.0.1:$port" "fpmd.socket=$FPMD_SOCK" \
		"extra=$d/extra.sock"
	run get "127.0.0.1:$port" hello.php
	assert_contains "$output" "Hello, world!"
	run get "$FPMD_SOCK" hello.php
	assert_contains "$output" "Hello, world!"
	grep -qF "WARNING: socket activation: no pool listens on '$d/extra.sock' (descriptor 5, 'extra'): closed" \
		"$LAUNCHER_LOG" || fail "$(cat "$LAUNCHER_LOG")"
	# not held by fpmd any more, only by the launcher
	pid=$(cat "$FPMD_PIDFILE")
	assert_not_contains "$(ss -Hlxp | grep -F " $d/extra.sock ")" "pid=$pid,"
	# the supervisor's unix socket is its own: fpmd does not unlink it on
	# a stop
	run ctl stop
	assert_eq 0 "$status" "$output"
	wait_until 10 test -e "$FPMD_PIDFILE.exit"
	assert_eq 0 "$(cat "$FPMD_PIDFILE.exit")"
	[[ -S $FPMD_SOCK ]] || fail "fpmd removed the supervisor's socket"
}

@test "a restart of fpmd loses no connection: one made while it is down is served" {
	local d port pid
	d=$(t_tmp)
	port=$(free_port)
	fpmd_conf
	cat >>"$FPMD_CONF" <<EOF
pool api {
    listen = 127.0.0.1:$port
    pm = static
    pm.max_children = 1
}
EOF
	launcher_start "www=$d/act.sock" "api=127.0.0.1:$port"
	pid=$(cat "$FPMD_PIDFILE")
	kill -QUIT "$pid"
	wait_until 10 test -e "$FPMD_PIDFILE.exit" || fail "fpmd did not stop"
	assert_eq 0 "$(cat "$FPMD_PIDFILE.exit")"
	# fpmd is down: the requests wait in the sockets' queues
	get "$d/act.sock" hello.php >"$d/unix.out" 2>&1 3>&- &
	BG[unix]=$!
	get "127.0.0.1:$port" hello.php >"$d/tcp.out" 2>&1 3>&- &
	BG[tcp]=$!
	wait_until 10 count_is 1 listen_queue "$d/act.sock" ||
		fail "unix: queue $(listen_queue "$d/act.sock")"
	wait_until 10 count_is 1 listen_queue "$port" ||
		fail "tcp: queue $(listen_queue "$port")"
	kill -USR1 "$LAUNCHER_PID"
	wait_ready_count 2
	wait "${BG[unix]}" || fail "unix: $(cat "$d/unix.out")"
	wait "${BG[tcp]}" || fail "tcp: $(cat "$d/tcp.out")"
	unset 'BG[unix]' 'BG[tcp]'
	assert_contains "$(cat "$d/unix.out")" "Hello, world!"
	assert_contains "$(cat "$d/tcp.out")" "Hello, world!"
	[[ $(cat "$FPMD_PIDFILE") != "$pid" ]] || fail "fpmd was not restarted"
	grep -q "Address already in use\|unable to bind" "$LAUNCHER_LOG" &&
		fail "$(cat "$LAUNCHER_LOG")"
	true
}

@test "LISTEN_PID of another process: the sockets are not fpmd's, it binds its own" {
	local d
	d=$(t_tmp)
	fpmd_conf 'clear_env = no'
	launcher_start --wrong-pid "www=$d/act.sock"
	[[ -S $FPMD_SOCK ]] || fail "fpmd did not bind $FPMD_SOCK"
	run get "$FPMD_SOCK" feat/env.php QUERY_STRING=k=LISTEN_PID,LISTEN_FDS,LISTEN_FDNAMES
	assert_contains "$output" "LISTEN_PID=false"
	assert_contains "$output" "LISTEN_FDS=false"
	assert_contains "$output" "LISTEN_FDNAMES=false"
}

@test "a passed descriptor that is not a listening socket is said and closed" {
	local d
	d=$(t_tmp)
	fpmd_conf
	# LISTEN_PID is the shell's pid, which exec hands to fpmd
	cat >"$d/wrap.sh" <<EOF
#!/bin/sh
LISTEN_PID=\$\$ LISTEN_FDS=1 LISTEN_FDNAMES=www exec "$FPMD_BIN" "\$@" 3<"$FPMD_CONF"
EOF
	chmod +x "$d/wrap.sh"
	FPMD_BIN=$d/wrap.sh fpmd_start
	assert_log_contains "WARNING: socket activation: descriptor 3 ('www') is not a socket: closed"
	run get "$FPMD_SOCK" hello.php
	assert_contains "$output" "Hello, world!"
	fpmd_stop
	cat >"$d/wrap.sh" <<EOF
#!/bin/sh
LISTEN_PID=\$\$ LISTEN_FDS=lots exec "$FPMD_BIN" "\$@"
EOF
	rm -f "$FPMD_LOG"
	FPMD_BIN=$d/wrap.sh fpmd_start
	assert_log_contains "WARNING: socket activation: LISTEN_FDS=lots is not a number"
}

# ------------------------------------------------------- shipped units -----

@test "contrib/systemd's units pass systemd-analyze verify without a word" {
	command -v systemd-analyze >/dev/null || skip "no systemd-analyze (apt-get install systemd)"
	local d
	d=$(t_tmp)
	sed -e "s|/usr/local/sbin/fpmd|$FPMD_BIN|g" -e "s|/usr/local/bin/fpmctl|$FPMCTL|g" \
		"$FPMD_SRCDIR/contrib/systemd/fpmd.service" >"$d/fpmd.service"
	cp "$FPMD_SRCDIR/contrib/systemd/fpmd.socket" "$d/fpmd.socket"
	grep -qx 'Type=notify' "$d/fpmd.service"
	grep -qx "ExecReload=$FPMCTL -c /etc/fpmd.conf reload" "$d/fpmd.service"
	cd "$d"
	run systemd-analyze verify --man=no ./fpmd.service ./fpmd.socket
	assert_eq 0 "$status" "$output"
	assert_eq "" "$output" "systemd-analyze's warnings"
}
