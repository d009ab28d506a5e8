#!/usr/bin/env bats
# fpmctl top: the live view, piped (plain frames) and in a real
# pseudo-terminal (keys, resizing, the terminal given back), against a real
# fpmd behind a real nginx.

# FPMD_BIN and friends come from helper.bash, $stderr from `run
# --separate-stderr`; each @test is a subshell of its own.
# shellcheck disable=SC2030,SC2031,SC2119,SC2120,SC2153,SC2154

load helper
bats_require_minimum_version 1.5.0

teardown() {
	teardown_stack
}

setup_file() {
	command -v "$PYTHON" >/dev/null 2>&1 || skip "python3 is not installed"
}

# ------------------------------------------------------------ local helpers

# add_pool NAME N: a second static pool of N workers in $FPMD_CONF.
add_pool() {
	{
		echo "pool $1 {"
		echo "    listen = \"$(t_tmp)/$1.sock\""
		echo '    pm = static'
		echo "    pm.max_children = $2"
		echo '}'
	} >>"$FPMD_CONF"
}

# frame N TEXT: the Nth frame (from 1) of top's piped output; frames begin
# with their "fpmd pid" header line.
frame() {
	awk -v n="$1" '/^fpmd pid /{f++} f==n' <<<"$2"
}

# col POOL FIELD FRAME: FIELD (awk's, from 1) of POOL's line in FRAME.
col() {
	awk -v p="$1" -v f="$2" '$1 == p { print $f; exit }' <<<"$3"
}

# www_field FIELD: FIELD of pool www (the first) in `status`.
www_field() {
	ctl --json status | json "d['pools'][0]['$1']"
}

# www_accepted: pool www has accepted a connection.
www_accepted() {
	(($(www_field accepted_conn) > 0))
}

# assert_line TEXT REGEX: some line of TEXT matches the extended REGEX.
assert_line() {
	grep -qE -- "$2" <<<"$1" && return 0
	printf 'expected a line matching: %s\n                     in: %s\n' "$2" "$1" >&2
	return 1
}

# assert_width COLS TEXT: no line of TEXT is wider than COLS.
assert_width() {
	local line
	while IFS= read -r line; do
		((${#line} <= $1)) || fail "line of ${#line} columns, more than $1: '$line'"
	done <<<"$2"
}

# The pseudo-terminal driver for py_pty: T(argv, cols, rows) starts argv as
# the session leader of a new pty (its controlling terminal, so ^C and
# resizes send signals); t.until(bytes, secs) reads until bytes show;
# t.frames() the complete frames drawn so far, escape codes removed;
# t.key(b), t.resize(cols, rows); t.wait(secs) the exit status
# (os.waitstatus_to_exitcode: -SIG when a signal ended it); t.restored() is
# true if the slave's modes are those it had before.
PY_PTY='import fcntl, os, re, select, struct, sys, termios, time
class T:
    def __init__(self, argv, cols, rows):
        self.m, self.s = os.openpty()
        self.resize(cols, rows)
        self.before = termios.tcgetattr(self.s)
        self.out = b""
        self.pid = os.fork()
        if self.pid == 0:
            os.setsid()
            fcntl.ioctl(self.s, termios.TIOCSCTTY, 0)
            for fd in (0, 1, 2):
                os.dup2(self.s, fd)
            os.execv(argv[0], argv)
    def resize(self, cols, rows):
        fcntl.ioctl(self.m, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    def read(self, secs):
        r, _, _ = select.select([self.m], [], [], secs)
        if r:
            try:
                d = os.read(self.m, 65536)
            except OSError:
                d = b""
            self.out += d
            return len(d) > 0
        return True
    def until(self, what, secs=10):
        end = time.monotonic() + secs
        while what not in self.out:
            if time.monotonic() > end or not self.read(0.05):
                raise AssertionError("no %r within %s s; got %r" % (what, secs, self.out[-2000:]))
    def frames(self, since=0):
        f = re.findall(rb"\x1b\[H(.*?)\x1b\[J", self.out[since:], re.S)
        return [re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", x).replace(b"\r", b"").decode() for x in f]
    def key(self, b):
        os.write(self.m, b)
    def wait(self, secs=10):
        end = time.monotonic() + secs
        while time.monotonic() < end:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                while self.read(0.05) and select.select([self.m], [], [], 0)[0]:
                    pass
                return os.waitstatus_to_exitcode(st)
            self.read(0.05)
        os.kill(self.pid, 9)
        raise AssertionError("still running after %s s" % secs)
    def restored(self):
        return termios.tcgetattr(self.s) == self.before
    def cursor_shown(self):
        return self.out.rfind(b"\x1b[?25h") > self.out.rfind(b"\x1b[?25l") >= 0
'

# py_pty SCRIPT [ARGS...]: run SCRIPT after $PY_PTY; sys.argv[1] is fpmctl,
# sys.argv[2] the control socket.
py_pty() {
	local script=$1
	shift
	"$PYTHON" -c "$PY_PTY"$'\n'"$script" "$FPMCTL" "$FPMD_CTL" "$@"
}

# ------------------------------------------------------------------ tests

@test "top -n 2 piped: plain frames with the header and every pool; 0 conn/s when idle" {
	local f1 f2
	fpmd_conf
	add_pool api 3
	fpmd_start
	run --separate-stderr ctl top -n 2 -d 0.5
	[[ $status -eq 0 ]] || fail "exit $status: $stderr"
	assert_eq "" "$stderr"
	assert_eq 2 "$(grep -c '^fpmd pid ' <<<"$output")" "frames"
	[[ $output != *$'\e'* ]] || fail "an escape code in piped output: $output"
	[[ $output != *$'\r'* ]] || fail "a carriage return in piped output"
	f1=$(frame 1 "$output")
	f2=$(frame 2 "$output")
	# a blank line between frames
	assert_eq "[]" "$(awk '/^fpmd pid /{ if (n++) print "[" prev "]" } { prev = $0 }' <<<"$output")" \
		"the line before the second frame"
	assert_match "$(head -n 1 <<<"$f1")" "^fpmd pid $FPMD_PID, generation 1, up [0-9]+s +[0-9]{2}:[0-9]{2}:[0-9]{2}$"
	assert_line "$f1" '^POOL +CONN/S +ACTIVE +IDLE +TOTAL +QUEUE/LEN +MAXREACHED$'
	# www: 2 workers, api: 3, all idle; no rate in the first frame
	assert_line "$f1" '^www +- +0 +2 +2 +0/511 +0$'
	assert_line "$f1" '^api +- +0 +3 +3 +0/511 +0$'
	assert_line "$f2" '^www +0\.0 +0 +2 +2 +0/511 +0$'
	assert_line "$f2" '^api +0\.0 +0 +3 +3 +0/511 +0$'
	assert_line "$f2" '^5 workers, 0 busy; sorted by duration$'
	assert_line "$f2" '^ *PID +POOL +GEN +STATE +DURATION +CPU +MEM +METHOD +URI$'
	assert_eq 5 "$(grep -cE '^ *[0-9]+ +(www|api) +1 +Idle ' <<<"$f2")" "worker rows"
	# they are fpmd's workers
	assert_eq "$(worker_procs | tr '\n' ' ')" \
		"$(awk '$3 == 1 && $4 == "Idle" { print $1 }' <<<"$f2" | sort -n | tr '\n' ' ')"
	# --sort pid: the rows in pid order
	run --separate-stderr ctl top -n 1 --sort pid
	[[ $status -eq 0 ]] || fail "exit $status: $stderr"
	assert_line "$output" '^5 workers, 0 busy; sorted by pid$'
	assert_eq "$(worker_procs | tr '\n' ' ')" \
		"$(awk '$4 == "Idle" { print $1 }' <<<"$output" | tr '\n' ' ')" "pid order"
}

@test "top: accepted conn per second from two samples while requests run" {
	local f1 f2 rate
	fpmd_conf
	add_pool api 1
	fpmd_start
	nginx_start
	(while :; do curl -sS -o /dev/null --max-time 10 "$BASE_URL/ctl/ok.php" || sleep 0.1; done) 3>&- &
	BG[load]=$!
	wait_until 10 www_accepted || fail "no request got through"
	run --separate-stderr ctl top -n 2 -d 1
	[[ $status -eq 0 ]] || fail "exit $status: $stderr"
	f1=$(frame 1 "$output")
	f2=$(frame 2 "$output")
	assert_eq - "$(col www 2 "$f1")" "rate in the first frame"
	rate=$(col www 2 "$f2")
	assert_match "$rate" '^[0-9]+(\.[0-9])?$'
	awk -v r="$rate" 'BEGIN { exit !(r > 0) }' || fail "www: $rate conn/s under load"
	# the idle pool has none
	assert_eq 0.0 "$(col api 2 "$f2")" "rate of the idle pool"
}

@test "top: a slow request is Running at the top of the list with its method and URI" {
	local p out rows
	fpmd_conf 'pm.max_children = 3'
	fpmd_start
	nginx_start
	assert_body_equals "$BASE_URL/ctl/ok.php" ok
	bg_slow slow 4
	p=$(cat "$BATS_TEST_TMPDIR/slow.mark")
	wait_until 5 count_is 1 www_field active_processes ||
		fail "active_processes $(www_field active_processes), expected 1"
	out=$(COLUMNS=300 ctl top -n 1)
	assert_line "$out" '^www +- +1 +2 +3 +0/511 +0$'
	assert_line "$out" '^3 workers, 1 busy; sorted by duration$'
	rows=$(awk 'h { print } /^ *PID /{ h = 1 }' <<<"$out")
	assert_eq 3 "$(wc -l <<<"$rows")" "worker rows"
	assert_match "$(head -n 1 <<<"$rows")" \
		"^ *$p +www +1 +Running +[0-9.]+(ms|s) +0\.0% +0B +GET +/ctl/sleep\.php\?s=4&mark=$BATS_TEST_TMPDIR/slow\.mark$"
	assert_full_body slow
	wait_until 5 count_is 0 www_field active_processes

	# by memory: the last requests' peaks, largest first
	out=$(COLUMNS=300 ctl top -n 1 --sort memory)
	assert_line "$out" '^3 workers, 0 busy; sorted by memory$'
	rows=$(awk 'h { print $7 } /^ *PID /{ h = 1 }' <<<"$out")
	assert_eq 3 "$(wc -l <<<"$rows")" "worker rows"
	awk '{ v = $1 + 0; u = substr($1, length($1));
		v *= u == "K" ? 1024 : u == "M" ? 1048576 : u == "G" ? 1073741824 : 1
		if (NR == 1 && v <= 0) exit 1
		if (NR > 1 && v > last) exit 1
		last = v }' <<<"$rows" || fail "MEM not largest first: $rows"
}

@test "top: every line fits COLUMNS=60, and the frame LINES" {
	local out f
	fpmd_conf 'pm.max_children = 6'
	add_pool a-pool-with-a-rather-long-name 1
	fpmd_start
	nginx_start
	bg_slow slow 6
	run --separate-stderr env COLUMNS=60 "$FPMCTL" -s "$FPMD_CTL" top -n 2 -d 0.5
	[[ $status -eq 0 ]] || fail "exit $status: $stderr"
	assert_width 60 "$output"
	f=$(frame 2 "$output")
	# the long pool name and the URI are cut, the numbers are not
	assert_line "$f" '^a-pool-with-a[-a-z]* +[0-9.]+ +0 +1 +1 +0/511 +0$'
	assert_line "$f" "^ *$(cat "$BATS_TEST_TMPDIR/slow.mark") +www +1 +Running .* GET +/ctl/sle.*\.\.\.$"
	# 12 rows: 11 lines of frame, 3 workers of 7 shown
	out=$(LINES=12 COLUMNS=60 ctl top -n 1)
	assert_eq 11 "$(wc -l <<<"$out")" "lines of a 12-row frame"
	assert_line "$out" '^7 workers, [01] busy; sorted by duration$'
	assert_eq 3 "$(grep -cE '^ *[0-9]+ +(www|a-po)' <<<"$out")" "worker rows"
	# a terminal narrower than the tables still gets no longer line
	out=$(COLUMNS=30 ctl top -n 1)
	assert_width 30 "$out"
	assert_full_body slow
}

@test "top: exit 3 when fpmd is not there, goes away, or does not answer" {
	local dir=$BATS_TEST_TMPDIR pid rc t0 t1
	run --separate-stderr "$FPMCTL" -s "$dir/none.sock" top -n 1
	assert_eq 3 "$status"
	assert_eq "" "$output"
	assert_contains "$stderr" "cannot reach fpmd at $dir/none.sock (given with -s)"

	# fpmd stops while top runs: the frames so far, then exit 3
	fpmd_conf
	fpmd_start
	"$FPMCTL" -s "$FPMD_CTL" top -d 0.2 >"$dir/top.out" 2>"$dir/top.err" 3>&- &
	pid=$!
	BG[top]=$pid
	wait_until 10 grep -q '^2 workers' "$dir/top.out" || fail "no frame: $(cat "$dir/top.err")"
	fpmd_stop
	wait_until 10 _exited "$pid" || fail "top still runs after fpmd stopped"
	rc=0
	wait "$pid" || rc=$?
	unset 'BG[top]'
	assert_eq 3 "$rc" "exit status ($(cat "$dir/top.err"))"
	assert_match "$(cat "$dir/top.err")" "fpmd \(pid [0-9]+\) has exited|cannot reach fpmd"

	# a server that accepts and never answers: --timeout bounds the wait
	rm -f "$dir/fake.sock"
	"$PYTHON" -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(5)
c, _ = s.accept()
time.sleep(20)' "$dir/fake.sock" 3>&- &
	BG[fake]=$!
	wait_until 10 test -S "$dir/fake.sock"
	t0=$(now_ms)
	run --separate-stderr "$FPMCTL" -s "$dir/fake.sock" --timeout 1 top -n 1
	t1=$(now_ms)
	assert_eq 3 "$status" "($stderr)"
	assert_contains "$stderr" "fpmctl: top: fpmd did not reply within 1 s"
	(((t1 - t0) < 5000)) || fail "--timeout 1 took $((t1 - t0)) ms"

	# usage
	run --separate-stderr "$FPMCTL" -s "$dir/none.sock" top -n 0
	assert_eq 2 "$status"
	run --separate-stderr "$FPMCTL" -s "$dir/none.sock" top --sort size
	assert_eq 2 "$status"
	run --separate-stderr "$FPMCTL" -s "$dir/none.sock" top -d 0.01
	assert_eq 2 "$status"
	run --separate-stderr "$FPMCTL" -s "$dir/none.sock" --json top
	assert_eq 2 "$status"
}

@test "top in a terminal: m sorts by memory, a resize re-measures, q gives the terminal back" {
	fpmd_conf
	fpmd_start
	run py_pty '
t = T([sys.argv[1], "-s", sys.argv[2], "top", "-d", "0.3"], 100, 30)
t.until(b"sorted by duration (keys d c m p: sort, q: quit)")
assert b"\x1b[?25l" in t.out, "the cursor was not hidden"
assert not t.restored(), "the terminal is still in its cooked mode"
n = len(t.out)
t.key(b"m")
t.until(b"sorted by memory")
f = t.frames(n)[-1]
assert "sorted by memory" in f and "fpmd pid" in f, f
assert max(len(l) for l in f.split("\n")) <= 100, f
n = len(t.out)
t.resize(40, 12)
end = time.monotonic() + 10
while len(t.frames(n)) < 2 and time.monotonic() < end:
    t.read(0.05)
f = t.frames(n)[-1]
lines = f.split("\n")
assert max(len(l) for l in lines) <= 40, f
assert len(lines) <= 12, f
t.key(b"q")
st = t.wait()
assert st == 0, st
assert t.cursor_shown(), t.out[-200:]
assert t.restored(), "the terminal modes were not restored"
print("ok")'
	[[ $status -eq 0 ]] || fail "$output"
	assert_eq ok "$output"
}

@test "top in a terminal: ^C and SIGTERM end it, the terminal given back" {
	fpmd_conf
	fpmd_start
	run py_pty '
import signal
t = T([sys.argv[1], "-s", sys.argv[2], "top"], 80, 24)
t.until(b"sorted by duration")
t.key(b"\x03")
st = t.wait()
assert st == -signal.SIGINT, st
assert t.cursor_shown() and t.restored(), "not restored after ^C"
t = T([sys.argv[1], "-s", sys.argv[2], "top"], 80, 24)
t.until(b"sorted by duration")
os.kill(t.pid, signal.SIGTERM)
st = t.wait()
assert st == -signal.SIGTERM, st
assert t.cursor_shown() and t.restored(), "not restored after SIGTERM"
print("ok")'
	[[ $status -eq 0 ]] || fail "$output"
	assert_eq ok "$output"
}
