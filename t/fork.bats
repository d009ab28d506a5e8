#!/usr/bin/env bats
# pcntl_fork() in a script (pcntl is built into Debian's libphp8.2-embed):
# the copy is no worker.  It must not come back to accept() when its script
# ends (it would serve requests fpmd does not know of), must not hold the
# pool's listening socket (a restart would fail on "Address already in
# use"), and its output must reach no client.

load helper
bats_require_minimum_version 1.5.0

teardown() {
	local p
	for p in ${KILL_AFTER:-}; do
		kill -KILL "$p" 2>/dev/null || true
	done
	teardown_stack
}

# req PATH [QUERY] [ADDRESS]: the body of a GET of $WWW_ROOT/PATH on
# ADDRESS (default $FPMD_SOCK).
req() {
	"$FPMD_BUILDDIR/t/fcgi-client" -t 20 -b -p REQUEST_METHOD=GET \
		-p SCRIPT_NAME="/$1" -p SCRIPT_FILENAME="$WWW_ROOT/$1" \
		-p QUERY_STRING="${2:-}" "${3:-$FPMD_SOCK}" 2>&1 |
		grep -vE '^(STDOUT [0-9]+ bytes|END_REQUEST .*|EOF)$' | tr -d '\r' |
		sed '1,/^$/d'
}

# sock_inode PATH: the inode of the unix socket listening at PATH.
sock_inode() {
	awk -v p="$1" '$8 == p { print $7 }' /proc/net/unix | head -1
}

# holds PID INODE: how many of PID's descriptors are socket INODE.
holds() {
	find "/proc/$1/fd" -lname "socket:\[$2\]" 2>/dev/null | wc -l
}

@test "pcntl_fork(): the child holds no socket of the pool, answers no request, and exits when its script ends" {
	fpmd_conf 'pm.max_children = 1'
	sed -i '/pm.max_children = 2/d' "$FPMD_CONF"
	fpmd_start
	local out worker child ino i pid
	worker=$(worker_procs)
	out=$(req feat/fork.php ms=4000)
	[[ $out =~ ^parent\ ([0-9]+)\ forked\ ([0-9]+) ]] || fail "fork.php said: $out"
	assert_eq "$worker" "${BASH_REMATCH[1]}" "the parent is the worker"
	child=${BASH_REMATCH[2]}
	KILL_AFTER=$child
	proc_alive "$child" || fail "the child $child is not running"
	ino=$(sock_inode "$FPMD_SOCK")
	[[ -n $ino ]] || fail "no listening socket at $FPMD_SOCK in /proc/net/unix"
	assert_eq 1 "$(holds "$worker" "$ino")" "the worker holds the listening socket"
	assert_eq 0 "$(holds "$child" "$ino")" "the child holds the listening socket"
	# While the child lives, every request is the worker's.
	for i in 1 2 3 4 5 6 7 8; do
		pid=$(req feat/pid.php)
		assert_eq "$worker" "$pid" "request $i answered by"
	done
	# The child's script ends: it exits instead of serving, and says so.
	wait_until 15 _exited "$child" || fail "the child $child still runs after its script ended"
	wait_log "process $child, forked by a script, ended its request: it exits rather than serve" 10
	for i in 1 2 3 4; do
		out=$(req feat/pid.php)
		assert_eq "$worker" "$out" "request $i after the child's end"
	done
	assert_not_contains "$(cat "$FPMD_LOG")" "the child's output"
	# exit() in the child: the same.
	out=$(req feat/fork.php 'ms=200&end=exit')
	[[ $out =~ forked\ ([0-9]+) ]] || fail "fork.php said: $out"
	child=${BASH_REMATCH[1]}
	KILL_AFTER=$child
	wait_until 15 _exited "$child" || fail "the child $child (exit()) still runs"
	wait_log "process $child, forked by a script, ended its request" 10
	assert_eq "$worker" "$(req feat/pid.php)"
	assert_eq "$worker" "$(worker_procs)" "the pool's worker"
}

@test "pcntl_fork(): a child still running does not keep the pool's TCP address from the next fpmd" {
	local port out child d
	d=$(t_tmp)
	port=$(free_port)
	fpmd_conf
	sed -i "s#listen = .*#listen = \"127.0.0.1:$port\"#" "$FPMD_CONF"
	fpmd_start
	out=$(req feat/fork.php ms=60000 "127.0.0.1:$port")
	[[ $out =~ forked\ ([0-9]+) ]] || fail "fork.php said: $out"
	child=${BASH_REMATCH[1]}
	KILL_AFTER=$child
	# fpmd stops; the script's child goes on (it is the script's).
	kill -QUIT "$FPMD_PID"
	wait_until 20 _exited "$FPMD_PID" || fail "fpmd did not stop"
	wait "$FPMD_PID" 2>/dev/null || true
	FPMD_PID=
	proc_alive "$child" || fail "the child $child ended with fpmd"
	if ss -ltnp "sport = :$port" | grep -q "pid=$child,"; then
		fail "the child $child listens on 127.0.0.1:$port"
	fi
	# The next fpmd binds the address and serves.
	mv "$FPMD_LOG" "$d/first.log"
	fpmd_start
	assert_match "$(req feat/pid.php "" "127.0.0.1:$port")" '^[0-9]+$'
	kill -KILL "$child"
}
