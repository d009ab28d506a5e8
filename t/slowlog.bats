#!/usr/bin/env bats
# request_slowlog_timeout, slowlog and request_slowlog_trace_depth: a
# request running past the timeout gets its PHP backtrace written to the
# slowlog in php-fpm's format, a WARNING in the error log and one count in
# "slow requests"; the script itself is neither stopped nor signalled (its
# usleep() lasts as long as asked). Read without ptrace, so it works for an
# fpmd run by an ordinary user, for workers that are not dumpable, and
# (through a pipe) where seccomp refuses process_vm_readv (t/no-vmread);
# the last test compares the entries with php-fpm 8.2's own for the same
# scripts.
#
# Scripts: t/data/www/slowlog/. The lines of nested.php that the entry
# names are found by their "call" comments, not written here.

load helper

SL=slowlog			# the scripts' directory under the web root

setup() {
	SCRIPTS=$WWW_ROOT/$SL
}

teardown() {
	teardown_stack
}

# start [POOL_LINES...]: fpmd with its slowlog in the test's directory and a
# 1 s request_slowlog_timeout, two workers, nginx in front. Sets SLOWLOG.
start() {
	SLOWLOG=$(t_tmp)/slow.log
	fpmd_conf "slowlog = \"$SLOWLOG\"" 'request_slowlog_timeout = 1' "$@"
	fpmd_start
	nginx_start
}

# one_worker: the config fpmd_conf wrote, with pm.max_children = 1.
one_worker() {
	sed -i 's/pm.max_children = 2$/pm.max_children = 1/' "$FPMD_CONF"
	grep -q 'pm.max_children = 1$' "$FPMD_CONF" ||
		fail "one_worker: cannot set pm.max_children in $FPMD_CONF"
}

# line_of TEXT FILE: the number of the first line of FILE holding TEXT.
line_of() {
	grep -n -F -- "$1" "$2" | head -n 1 | cut -d: -f1
}

# mask [--pid]: stdin with what differs from run to run replaced, and only
# where it has exactly php-fpm's form: the date of an entry's header, the
# frames' addresses (16 hex digits); with --pid, the headers' pids too.
mask() {
	local pid='s/^$//'
	[[ ${1:-} == --pid ]] && pid='s/\] pid [0-9]+$/] pid PID/'
	sed -E -e 's/^\[[0-9]{2}-[A-Z][a-z]{2}-[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}\]  \[pool /[DATE]  [pool /' \
		-e 's/^\[0x[0-9a-f]{16}\] /[0xADDR] /' -e "$pid"
}

# entries FILE: the number of entries (header lines) in a slowlog.
entries() {
	grep -c -E '^\[[^]]+\]  \[pool [^]]+\] pid [0-9]+$' "$1" || true
}

# nested_entry PID DIR: the entry nested.php in DIR leaves for worker PID,
# as the slowlog must hold it once masked (date and addresses).
nested_entry() {
	local f=$2/nested.php
	printf '\n[DATE]  [pool www] pid %s\n' "$1"
	printf 'script_filename = %s\n' "$f"
	printf '[0xADDR] usleep() %s:%s\n' "$f" "$(line_of '// call usleep' "$f")"
	printf '[0xADDR] nap() %s:%s\n' "$f" "$(line_of '// call nap' "$f")"
	printf '[0xADDR] run() %s:%s\n' "$f" "$(line_of '// call run' "$f")"
}

# slow_get NAME US [BASE]: GET nested.php sleeping US microseconds, timed;
# the worker's pid in PID (from the script's mark), the wall time in
# ELAPSED_MS, the answer in HTTP_*.
slow_get() {
	local mark t0
	mark=$(t_tmp)/$1.mark
	t0=$(now_ms)
	http "${3:-$BASE_URL}/$SL/nested.php?us=$2&mark=$mark" || return 1
	ELAPSED_MS=$(($(now_ms) - t0))
	assert_eq 200 "$HTTP_STATUS" "status of nested.php" || return 1
	PID=$(cat "$mark")
}

# assert_whole_answer US: the answer of nested.php is all there, and says
# usleep() slept at least US microseconds.
assert_whole_answer() {
	local first slept
	first=$(head -n 1 "$HTTP_BODY_FILE")
	[[ $first =~ ^slept\ ([0-9]+)$ ]] || fail "first line: $first"
	slept=${BASH_REMATCH[1]}
	((slept >= $1)) || fail "usleep($1) slept only $slept us"
	assert_eq $((${#first} + 1 + 100000 + 5)) "$(stat -c %s "$HTTP_BODY_FILE")" \
		"size of the answer" || return 1
	assert_eq end "$(tail -n 1 "$HTTP_BODY_FILE")" "last line of the answer"
}

slow_requests() {
	ctl --json status | json 'd["pools"][0]["slow_requests"]'
}

# ---------------------------------------------------------------------------

@test "a request past the timeout: php-fpm's entry, WARNING and count; the script is not cut short" {
	start
	slow_get slow 2500000
	assert_whole_answer 2500000
	((ELAPSED_MS >= 2500)) || fail "the request took only $ELAPSED_MS ms"

	wait_until 10 test -s "$SLOWLOG" || fail "nothing in the slowlog"
	assert_eq "$(nested_entry "$PID" "$SCRIPTS")" "$(mask <"$SLOWLOG")" \
		"the slowlog entry"
	# the WARNING, as php-fpm's master words it, once
	local mark=$(t_tmp)/slow.mark line
	line=$(grep -F "WARNING: [pool www] child $PID, script '$SCRIPTS/nested.php' (request: \"GET /$SL/nested.php?us=2500000&mark=$mark\") executing too slow (" "$FPMD_LOG") ||
		fail "no WARNING for child $PID in the log: $(cat "$FPMD_LOG")"
	assert_match "$line" '^\[[0-9]{2}-[A-Z][a-z]{2}-[0-9]{4} [0-9:]{8}\] WARNING: .* executing too slow \(([0-9]+)\.[0-9]{6} sec\), logging$'
	# logged at 1 s or later (on a loaded machine, perhaps much later)
	((BASH_REMATCH[1] >= 1)) || fail "logged too early: $line"
	assert_eq 1 "$(grep -c 'executing too slow' "$FPMD_LOG")" "WARNING lines"

	assert_eq 1 "$(slow_requests)" "slow requests after the request"
	assert_contains "$(ctl status)" "slow requests:        1"
	# the worker served on; a quick request is no slow one
	slow_get quick 1000
	assert_eq 1 "$(slow_requests)" "slow requests after a quick request"
	assert_eq 1 "$(entries "$SLOWLOG")" "entries in the slowlog"
}

@test "request_slowlog_trace_depth limits the frames, innermost first" {
	start 'request_slowlog_trace_depth = 2'
	slow_get slow 1500000
	wait_until 10 test -s "$SLOWLOG" || fail "nothing in the slowlog"
	assert_eq "$(nested_entry "$PID" "$SCRIPTS" | head -n 5)" \
		"$(mask <"$SLOWLOG")" "the slowlog entry, two frames deep"
}

@test "the default depth is 20 frames, as php-fpm's" {
	start
	local f=$SCRIPTS/deep.php inner outer
	http "$BASE_URL/$SL/deep.php?n=30&us=1500000"
	assert_eq done "$HTTP_BODY"
	wait_until 10 test -s "$SLOWLOG" || fail "nothing in the slowlog"
	inner=$(line_of 'usleep($us);' "$f")
	outer=$(line_of 'down($n - 1, $us);' "$f")
	assert_eq 20 "$(grep -c '^\[0x' "$SLOWLOG")" "frames in the entry"
	assert_eq "[0xADDR] usleep() $f:$inner" "$(mask <"$SLOWLOG" | grep '^\[0x' | head -n 1)"
	assert_eq 19 "$(mask <"$SLOWLOG" | grep -c -x -F "[0xADDR] down() $f:$outer")" \
		"down() frames"
}

@test "a request shorter than the timeout, or answered by fastcgi_finish_request() before it, leaves nothing" {
	fpmd_conf "slowlog = \"$(t_tmp)/slow.log\"" 'request_slowlog_timeout = 1'
	one_worker
	SLOWLOG=$(t_tmp)/slow.log
	fpmd_start
	nginx_start
	slow_get quick 300000
	assert_whole_answer 300000
	# answered at once, then 2 s of work after the answer
	http "$BASE_URL/$SL/finish.php?us=2000000"
	assert_eq answered "$HTTP_BODY"
	# With one worker, this one runs once the others are done: had either
	# been logged, its entry would be there before this one's.
	slow_get barrier 1500000
	wait_until 10 test -s "$SLOWLOG" || fail "nothing in the slowlog"
	assert_eq "$(nested_entry "$PID" "$SCRIPTS")" "$(mask <"$SLOWLOG")" \
		"the only entry: the last request's"
	assert_eq 1 "$(grep -c 'executing too slow' "$FPMD_LOG")" "WARNING lines"
	assert_eq 1 "$(slow_requests)" "slow requests"
}

@test "two workers slow at once write two whole entries" {
	start
	bg_get a "$BASE_URL/$SL/deep.php?n=40&us=2000000"
	bg_get b "$BASE_URL/$SL/deep.php?n=40&us=2000000"
	bg_wait a
	assert_eq 200 "$BG_CODE"
	bg_wait b
	assert_eq 200 "$BG_CODE"
	wait_until 10 count_is 2 entries "$SLOWLOG" ||
		fail "entries: $(entries "$SLOWLOG")"
	local f=$SCRIPTS/deep.php one
	one=$(printf '\n[DATE]  [pool www] pid PID\nscript_filename = %s\n[0xADDR] usleep() %s:%s\n' \
		"$f" "$f" "$(line_of 'usleep($us);' "$f")"
	for _ in $(seq 19); do
		printf '[0xADDR] down() %s:%s\n' "$f" "$(line_of 'down($n - 1, $us);' "$f")"
	done)
	assert_eq "$one"$'\n'"$one" "$(mask --pid <"$SLOWLOG")" "two whole entries, one after the other"
	assert_eq 2 "$(grep -o ' pid [0-9]*$' "$SLOWLOG" | sort -u | wc -l)" \
		"workers named"
	assert_eq 2 "$(slow_requests)" "slow requests"
}

@test "calls in a loop: the moving stack is read, the script runs on" {
	start
	local f=$SCRIPTS/busy.php pids
	pids=$(worker_procs)
	http "$BASE_URL/$SL/busy.php?s=2"
	assert_match "$HTTP_BODY" '^ticks [0-9]+$'
	wait_until 10 test -s "$SLOWLOG" || fail "nothing in the slowlog"
	assert_not_contains "$(cat "$SLOWLOG")" "+++ dump failed"
	# the outermost frame is spin(), called from the script's last line
	assert_eq "[0xADDR] spin() $f:$(line_of 'echo "ticks "' "$f")" \
		"$(mask <"$SLOWLOG" | tail -n 1)"
	assert_eq "$pids" "$(worker_procs)" "the workers"
}

@test "slowlog = stderr: the entry goes to fpmd's standard error" {
	fpmd_conf 'slowlog = stderr' 'request_slowlog_timeout = 1'
	fpmd_start
	nginx_start
	slow_get slow 1500000
	wait_until 10 grep -q '^\[0x[0-9a-f]*\] run() ' "$FPMD_LOG" ||
		fail "no entry in fpmd's stderr: $(cat "$FPMD_LOG")"
	assert_contains "$(mask <"$FPMD_LOG")" "$(nested_entry "$PID" "$SCRIPTS")"
}

# nobody_www DIR: a copy of the scripts where nobody can read them (the
# tree may sit in a private temporary directory); sets WWW_ROOT and
# SCRIPTS to it.
nobody_www() {
	mkdir -p "$1/www/$SL"
	cp "$WWW_ROOT/$SL"/*.php "$1/www/$SL/"
	chmod -R a+rX "$1/www"
	open_path "$1/www"
	WWW_ROOT=$1/www
	SCRIPTS=$WWW_ROOT/$SL
}

@test "a worker that dropped root is not dumpable (process.dumpable = no), and is traced all the same" {
	((EUID == 0)) || skip "needs root to run the pool as another user"
	local d
	d=$(t_tmp)/pub
	mkdir -p "$d/marks"
	chmod 1777 "$d/marks"
	nobody_www "$d"
	fpmd_conf "slowlog = \"$(t_tmp)/slow.log\"" 'request_slowlog_timeout = 1' \
		'user = nobody' 'group = nogroup'
	SLOWLOG=$(t_tmp)/slow.log
	fpmd_start
	nginx_start
	local mark=$d/marks/slow.mark t0
	t0=$(now_ms)
	http "$BASE_URL/$SL/nested.php?us=2000000&mark=$mark"
	assert_eq 200 "$HTTP_STATUS"
	PID=$(cat "$mark")
	assert_whole_answer 2000000
	wait_until 10 test -s "$SLOWLOG" || fail "nothing in the slowlog"
	assert_eq "$(nested_entry "$PID" "$SCRIPTS")" "$(mask <"$SLOWLOG")"
	# the kernel hands a non-dumpable process's /proc files to root
	assert_eq 65534 "$(awk '/^Uid:/ { print $2 }' "/proc/$PID/status")" "uid of the worker"
	assert_eq 0 "$(stat -c %u "/proc/$PID/stat")" "owner of /proc/$PID/stat (not dumpable)"
}

@test "fpmd run by an ordinary user: the slowlog works, without ptrace rights" {
	((EUID == 0)) || skip "needs root to start fpmd as nobody"
	command -v setpriv >/dev/null || skip "setpriv is not installed"
	local d run
	d=$(t_tmp)/pub
	run=$d/run
	mkdir -p "$run"
	chown nobody:nogroup "$run"
	nobody_www "$d"
	# fpmd where nobody can run it, started as nobody (setpriv execs it:
	# the pid stays fpmd's)
	cp "$FPMD_BIN" "$d/fpmd"
	chmod 755 "$d/fpmd"
	cat >"$d/fpmd-nobody" <<-EOF
	#!/bin/sh
	exec setpriv --reuid=nobody --regid=nogroup --clear-groups "$d/fpmd" "\$@"
	EOF
	chmod 755 "$d/fpmd-nobody"
	FPMD_CONF=$run/fpmd.conf
	FPMD_SOCK=$run/www.sock
	SLOWLOG=$run/slow.log
	cat >"$FPMD_CONF" <<-EOF
	control.socket = "$run/control.sock"
	log_level = notice
	php_ini = "$PHP_INI"
	pool www {
	    listen = "$FPMD_SOCK"
	    listen.mode = 0666
	    pm = static
	    pm.max_children = 2
	    slowlog = "$SLOWLOG"
	    request_slowlog_timeout = 1
	}
	EOF
	chown nobody:nogroup "$FPMD_CONF"
	FPMD_BIN=$d/fpmd-nobody fpmd_start --no-R
	assert_eq 65534 "$(awk '/^Uid:/ { print $2 }' "/proc/$FPMD_PID/status")" "uid of fpmd"
	nginx_start "$FPMD_SOCK"
	local mark=$run/slow.mark
	http "$BASE_URL/$SL/nested.php?us=2500000&mark=$mark"
	assert_eq 200 "$HTTP_STATUS"
	PID=$(cat "$mark")
	assert_whole_answer 2500000
	assert_eq 65534 "$(awk '/^Uid:/ { print $2 }' "/proc/$PID/status")" "uid of the worker"
	grep -q '^CapEff:[[:space:]]*0*$' "/proc/$PID/status" ||
		fail "the worker has capabilities: $(grep Cap "/proc/$PID/status")"
	wait_until 10 test -s "$SLOWLOG" || fail "nothing in the slowlog"
	assert_eq "$(nested_entry "$PID" "$SCRIPTS")" "$(mask <"$SLOWLOG")"
	assert_log_contains "WARNING: [pool www] child $PID, script '$SCRIPTS/nested.php'"
	assert_eq 1 "$(slow_requests)" "slow requests"
}

@test "where seccomp refuses process_vm_readv, the slowlog reads through a pipe" {
	local novm=$FPMD_BUILDDIR/t/no-vmread wrap
	[[ -x $novm ]] || fail "no $novm: build it first (make check)"
	wrap=$(t_tmp)/fpmd-novm
	printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$novm" "$FPMD_BIN" >"$wrap"
	chmod 755 "$wrap"
	FPMD_BIN=$wrap start
	slow_get slow 1500000
	assert_whole_answer 1500000
	grep -q '^Seccomp:[[:space:]]*2$' "/proc/$PID/status" ||
		fail "the worker has no seccomp filter: $(grep Seccomp "/proc/$PID/status")"
	wait_until 10 test -s "$SLOWLOG" || fail "nothing in the slowlog"
	assert_eq "$(nested_entry "$PID" "$SCRIPTS")" "$(mask <"$SLOWLOG")"
	assert_log_contains "NOTICE: [pool www] pid $PID: slowlog: process_vm_readv refused (Operation not permitted); reading through a pipe"
}

# warnings LOG: the slowlog WARNINGs of LOG, masked (date, pid, time).
warnings() {
	grep -F 'executing too slow' "$1" |
		sed -E -e 's/^\[[^]]*\] //' -e 's/child [0-9]+,/child PID,/' \
			-e 's/\([0-9]+\.[0-9]{6} sec\)/(TIME sec)/'
}

@test "the same entries as php-fpm 8.2 for the same scripts" {
	[[ -x $PHPFPM_BIN ]] || skip "no $PHPFPM_BIN"
	((EUID == 0)) || skip "php-fpm traces its workers with ptrace: needs root here"
	local fpm_slow=$(t_tmp)/php-fpm/slow.log url req
	start
	phpfpm_start "slowlog = $fpm_slow" 'request_slowlog_timeout = 1'
	nginx_start -n fpm "$PHPFPM_SOCK"
	local fpm_url=$BASE_URL
	nginx_start -n fpmd "$FPMD_SOCK"
	# one request at a time, so that the entries come in the same order
	for req in "nested.php?us=2500000" "shapes.php?us=2500000" \
		"deep.php?n=25&us=2500000"; do
		for url in "$fpm_url" "$BASE_URL"; do
			http "$url/$SL/$req"
			assert_eq 200 "$HTTP_STATUS" "$url/$SL/$req"
		done
	done
	wait_until 10 count_is 3 entries "$fpm_slow" ||
		fail "php-fpm's slowlog: $(cat "$fpm_slow"; cat "$PHPFPM_LOG")"
	wait_until 10 count_is 3 entries "$SLOWLOG" ||
		fail "fpmd's slowlog: $(cat "$SLOWLOG")"
	# php-fpm's own shape, first: the test would mean nothing otherwise
	assert_contains "$(mask <"$fpm_slow")" "[0xADDR] [INCLUDE_OR_EVAL]() $SCRIPTS/shapes.php:"
	assert_eq "$(mask --pid <"$fpm_slow")" "$(mask --pid <"$SLOWLOG")" \
		"the slowlogs, masked"
	assert_eq "$(warnings "$PHPFPM_LOG")" "$(warnings "$FPMD_LOG")" \
		"the WARNINGs, masked"
}
