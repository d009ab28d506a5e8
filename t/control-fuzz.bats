#!/usr/bin/env bats
# Hostile input at a real control socket for about 10 s, then fpmd must be
# fine: ping answers, status is valid JSON, PHP serves through nginx, and it
# stops cleanly.  The generator is seeded and prints its seed; rerun a
# failure with CONTROL_FUZZ_SEED=N (CONTROL_FUZZ_SECS=N for a longer run).
# Which bytes each connection sends follows from the seed alone; only the
# interleaving of connections depends on timing.  The bytes of each
# connection that went wrong are written to the test's directory (kept by
# bats --no-tempdir-cleanup).

# FPMD_BIN and friends come from helper.bash; each @test is a subshell.
# shellcheck disable=SC2030,SC2031,SC2119,SC2120,SC2153,SC2154

load helper
bats_require_minimum_version 1.5.0

# The generator: python3 control-socket seed seconds outdir.  Every
# command of docs/control-protocol.md with wrong types, huge numbers,
# nesting 10000 deep, NULs, \u0000, invalid UTF-8, 100 KB lines, lines
# without a newline, many requests per write, requests cut byte by byte,
# connections left open or reset, bursts of idle ones past fpmd's 256.
#
# Lines are filtered as fpmd will see them (cut at '\n', one '\r' dropped,
# cut at a NUL): a stop it would accept is dropped; a few reloads and any
# scale are let through (process.max bounds scale; the test restores the
# size at the end).  Checks while it runs: every reply line is a JSON object
# with a boolean "ok" (and an error code when false); connections that read
# their replies get one per request line, in time; a fresh ping answers
# every half second.  Problems are printed, and the script exits 1.
read -r -d '' FUZZ_PY <<'EOF' || true
import errno, json, os, random, resource, selectors, socket, sys, threading
import time

SOCK, SEED, SECS, OUT = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), \
    sys.argv[4]
LINE_MAX = 65536                # fpmd's CTL_LINE_MAX
RELOADS = 6                     # reloads let through at most
ACTIVE = 40                     # connections sending at once
R = random.Random(SEED)
problems, stats = [], dict(conns=0, bytes=0, lines=0, replies=0,
    dropped_stop=0, dropped_reload=0, busy=0, checked=0, pings=0,
    idle_bursts=0)
trace = open(os.path.join(OUT, "trace"), "w")

CMDS = ["ping", "status", "config", "reload", "stop", "scale", "reopen-logs"]
ARGS = {"status": ["full"], "reload": ["wait"], "stop": ["now", "timeout"],
    "scale": ["pool", "max_children"]}
ALLARGS = ["full", "wait", "now", "timeout", "pool", "max_children", "id"]
E = "\u00e9".encode()
HOSTILE = [b'null', b'true', b'false', b'0', b'-0', b'-1', b'1.5', b'1e308',
    b'-1e400', b'2147483647', b'2147483648', b'-2147483649',
    b'9223372036854775807', b'9223372036854775808', b'-9223372036854775809',
    b'18446744073709551616', b'1' + b'0' * 400, b'""', b'"x"', b'"\\u0000"',
    b'"a\\u0000b"', b'"\\ud800"', b'"\\udfff\\ud800"', b'"\\uZZZZ"', b'[]',
    b'{}', b'[[[]]]', b'[1,2,', b'{"a":}', b'"\xff\xfe"', b'"\xc3"',
    b'"\xed\xa0\x80"', b'"\xc0\xaf"', b'"\x00"', b'"a\x01\x1fb"', b'"www"',
    b'"www\\u0000"', b'"WWW"', b'" www"', b'"../www"', b'"\\"www\\""',
    b'"' + E * 31 + b'"', b'"a' + E * 40 + b'"']
ODD_CMDS = [b'"frob"', b'""', b'"PING"', b'"ping "', b'"ping\\u0000"',
    b'"st\\u006fp"', b'"stop\\u0000"', b'"re\\u006coad"', b'"a' + E * 40 + b'"',
    b'"' + E * 40 + b'"', b'"' + b'\\u00e9' * 40 + b'"', b'"\xe9"']
KEYS = [b'"\\u0063md"', b'"CMD"', b'"cmd\\u0000"', b'"cmd "', b'""']

def big():
    k, n = R.randrange(7), R.choice([100, 2047, 2048, 2049, 10000])
    if k == 0:
        return b'[' * n + b']' * n
    if k == 1:
        return b'{"a":' * n + b'1' + b'}' * n
    if k == 2:
        return b'[' * n             # never closed
    if k == 3:
        return b'"' + b'x' * R.choice([64, 1000, 65000, 100000]) + b'"'
    if k == 4:
        return b'"' + E * R.choice([31, 32, 33, 40, 30000]) + b'"'
    if k == 5:
        return b'[' + b','.join([b'{}'] * R.choice([10, 1000, 20000])) + b']'
    return b'"' + b'\\u00e9' * R.choice([10, 5000]) + b'"'

def good(arg):
    if arg in ("full", "wait", "now"):
        return R.choice([b'true', b'false'])
    if arg == "timeout":
        return str(R.randrange(0, 86401)).encode()
    if arg == "pool":
        return R.choice([b'"www"', b'"www"', b'"nope"'])
    if arg == "max_children":
        return str(R.randint(1, 6)).encode()
    return str(R.randrange(1000)).encode()

def value(arg):
    r = R.random()
    if r < 0.35:
        return good(arg)
    if r < 0.92:
        return R.choice(HOSTILE)
    return big()

def request():
    m = []
    if R.random() < 0.92:
        cmd = R.choice(CMDS)
        m.append((b'"cmd"', json.dumps(cmd).encode() if R.random() < 0.85
            else R.choice(ODD_CMDS + HOSTILE)))
        for a in ARGS.get(cmd, []):
            if R.random() < 0.7:
                m.append((json.dumps(a).encode(), value(a)))
    for a in ALLARGS:
        if R.random() < 0.05 or (a == "id" and R.random() < 0.3):
            m.append((json.dumps(a).encode(), value(a)))
    if m and R.random() < 0.08:
        m.append(R.choice(m))                   # a member twice
    if R.random() < 0.08:
        m.append((R.choice(KEYS), value("x")))
    R.shuffle(m)
    sep = R.choice([b',', b', ', b' ,\t'])
    body = b'{' + sep.join(k + R.choice([b':', b' : ']) + v
        for k, v in m) + b'}'
    if R.random() < 0.04:
        body = b'[' + body + b']'
    return body

def mutate(b):
    b = bytearray(b)
    for _ in range(R.randint(1, 4)):
        k = R.randrange(6)
        p = R.randrange(len(b) + 1)
        if k == 0:
            del b[p:]
        elif k == 1 and b:
            b[min(p, len(b) - 1)] ^= 1 << R.randrange(8)
        elif k == 2:
            b[p:p] = R.randbytes(R.randint(1, 8))
        elif k == 3:
            del b[p:p + R.randint(1, 16)]
        elif k == 4:
            b[p:p] = b[p:p + R.randint(1, 64)]
        else:
            b[p:p] = R.choice([b'\x00', b'\r', b'"', b'\\', b'{', b'[',
                b'\\u', b'\xc3', b'\n'])
    return bytes(b)

def stream():
    out = []
    n = R.choice([1, 1, 1, 1, 2, 3, 5, 10, 50, 300])
    for _ in range(n):
        x = R.random()
        if x < 0.55:
            line = request()
        elif x < 0.8:
            line = mutate(request())
        elif x < 0.86:
            line = R.randbytes(R.randint(1, 300))
        elif x < 0.9:
            line = R.choice([b'', b' ', b'\t \r', b'\x00', b'\x00{"cmd":"ping"}'])
        elif x < 0.95:
            line = b'{"cmd":"ping","pad":"'
            line += b'x' * (R.choice([LINE_MAX - 1, LINE_MAX, LINE_MAX + 1,
                100000]) - len(line) - 2) + b'"}'
        else:
            line = request() + b'\x00' + R.randbytes(R.randint(1, 50))
        out.append(line + R.choice([b'\n', b'\n', b'\n', b'\r\n', b'\r\r\n',
            b'\n\n']))
    if R.random() < 0.25:                       # the last line unfinished
        out.append(request()[:R.randint(0, 200)])
    if R.random() < 0.03:
        out.append(b'x' * 100000)
    return b''.join(out)

def danger(line):
    """What fpmd would do with the line that must not happen: "stop", or
    "reload" (counted).  Python's json accepts all jansson does."""
    try:
        o = json.loads(line)
    except (ValueError, RecursionError) as e:
        if isinstance(e, RecursionError) and (b'stop' in line or
                b'\\u' in line):
            return "stop"
        return None
    if not isinstance(o, dict):
        return None
    cmd = o.get("cmd")
    if cmd == "stop":
        now, t = o.get("now", False), o.get("timeout", 0)
        if isinstance(now, bool) and type(t) is int and 0 <= t <= 86400:
            return "stop"
    if cmd == "reload" and isinstance(o.get("wait", True), bool):
        return "reload"
    return None

reloads = 0

def screen(data, reload_ok):
    """Drops the lines fpmd must not get; returns the stream and how many
    replies a client that reads to the end gets (None: cannot tell)."""
    global reloads
    parts = data.split(b'\n')
    keep, expect, cut = [], 0, False
    for i, line in enumerate(parts):
        if i == len(parts) - 1:                 # no newline: no request
            keep.append(line)
            if len(line) > LINE_MAX and not cut:
                expect += 1                     # line_too_long
            break
        if len(line) > LINE_MAX:
            keep.append(line)
            if not cut:
                expect += 1                     # line_too_long, closed:
            cut = True                          # nothing after it counts
            continue
        view = line[:-1] if line.endswith(b'\r') else line
        view = view.split(b'\x00')[0]
        if view.strip(b' \t\r') == b'':
            keep.append(line)
            continue
        d = danger(view)
        if d == "stop":
            stats["dropped_stop"] += 1
            continue
        if d == "reload":
            if not reload_ok or reloads >= RELOADS:
                stats["dropped_reload"] += 1
                continue
            reloads += 1
        keep.append(line)
        stats["lines"] += 1
        if not cut:
            expect += 1
    return b'\n'.join(keep), expect

class Conn:
    """One client.  end: close, rst (reset), abandon (left open up to 3 s),
    halfclose (shutdown, then read to EOF), read (read the replies), hold
    (idle, part of a burst).  Its plan is drawn when it is made."""
    def __init__(self, cid, data, how, end, expect, limit=10):
        self.cid, self.how, self.end, self.expect = cid, how, end, expect
        self.data, self.limit = data, limit
        if how == "bytes":
            self.chunks = [data[i:i + 1] for i in range(len(data))]
        elif how in ("chunks", "slow"):
            self.chunks, i = [], 0
            while i < len(data):
                n = R.choice([1, 2, 3, 7, 100, 1000, 8192, 70000])
                self.chunks.append(data[i:i + n])
                i += n
        else:
            self.chunks = [data] if data else []
        self.delays = [R.random() * 0.03 if how == "slow" else 0
            for _ in self.chunks]
        self.read = end in ("halfclose", "read") or \
            (end != "hold" and R.random() < 0.5)
        self.sock, self.off, self.inbuf, self.replies = None, 0, b'', 0
        self.next_at, self.deadline, self.give_up = 0, None, None
        self.busy, self.done, self.events = False, False, 0
        self.hold = R.uniform(0.1, 3) if end == "abandon" else 0
        self.release = None

    def checked(self):
        return self.end in ("halfclose", "read") and self.expect is not None

    def desc(self):
        return "conn %s (%s, %s, %d bytes, expect %s, got %d)" % (self.cid,
            self.how, self.end, len(self.data), self.expect, self.replies)

    def problem(self, what):
        path = os.path.join(OUT, "conn-%s.bin" % self.cid)
        with open(path, "wb") as f:
            f.write(self.data)
        problems.append("%s: %s; sent %r%s (all of it in %s)" % (self.desc(),
            what, self.data[:160], "..." if len(self.data) > 160 else "",
            path))

sel = selectors.DefaultSelector()
live, held = [], []

def connect(c):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(SOCK)
    except (BlockingIOError, InterruptedError):
        s.close()                   # backlog full: try again soon
        return False
    except OSError as e:
        s.close()
        if e.errno in (errno.ECONNREFUSED, errno.ENOENT):
            problems.append("cannot connect (%s): is fpmd gone?" % e)
            raise SystemExit
        raise
    c.sock = s
    stats["conns"] += 1
    return True

def want(c, now):
    ev = 0
    if c.chunks and c.next_at <= now:
        ev |= selectors.EVENT_WRITE
    if c.read:
        ev |= selectors.EVENT_READ
    if ev == c.events:
        return
    if c.events == 0:
        sel.register(c.sock, ev, c)
    elif ev == 0:
        sel.unregister(c.sock)
    else:
        sel.modify(c.sock, ev, c)
    c.events = ev

def finish(c):
    if c.done:
        return
    c.done = True
    if c.events:
        sel.unregister(c.sock)
        c.events = 0
    if c.checked() and not c.busy:
        stats["checked"] += 1
    c.sock.close()

def after_send(c, now):
    """All sent: what the connection does now."""
    c.deadline = None
    if c.end == "close":
        finish(c)
    elif c.end == "rst":
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
            b'\x01\x00\x00\x00\x00\x00\x00\x00')
        finish(c)
    elif c.end == "abandon":
        c.release = now + c.hold
    elif c.end in ("halfclose", "read"):
        if c.end == "halfclose":
            try:
                c.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        elif c.expect is not None and c.replies >= c.expect:
            finish(c)
            return
        c.deadline = now + c.limit

def on_write(c, now):
    while c.chunks:
        if c.delays[0] and c.next_at == 0:
            c.next_at = now + c.delays[0]
            c.delays[0] = 0
        if c.next_at > now:
            want(c, now)
            return
        c.next_at = 0
        chunk = c.chunks[0]
        try:
            n = c.sock.send(chunk[c.off:])
        except BlockingIOError:
            # fpmd reads no more (a reload it waits for, a line too long
            # being answered to a client that does not read): fine, but
            # not for ever.
            if c.give_up is None:
                c.give_up = now + 10
            return
        except OSError:             # fpmd closed it (line too long, busy)
            c.chunks = []
            break
        stats["bytes"] += n
        c.give_up = None
        c.off += n
        if c.off < len(chunk):
            return
        c.chunks.pop(0)
        c.delays.pop(0)
        c.off = 0
    want(c, now)
    after_send(c, now)

def check_reply(c, line):
    try:
        r = json.loads(line)
        ok = isinstance(r, dict) and isinstance(r.get("ok"), bool)
        if ok and r["ok"] is False:
            ok = isinstance(r.get("error"), dict) and \
                isinstance(r["error"].get("code"), str) and \
                isinstance(r["error"].get("message"), str)
            if ok and r["error"]["code"] == "busy":
                c.busy = True
                stats["busy"] += 1
    except ValueError:
        ok = False
    if not ok:
        c.problem("not a valid reply: %r" % line[:300])

def on_read(c, now):
    try:
        d = c.sock.recv(1 << 20)
    except BlockingIOError:
        return
    except OSError:
        d = b''
    if d:
        c.inbuf += d
        while b'\n' in c.inbuf:
            line, c.inbuf = c.inbuf.split(b'\n', 1)
            c.replies += 1
            stats["replies"] += 1
            check_reply(c, line)
        if c.end == "read" and not c.chunks and c.expect is not None and \
                c.replies >= c.expect:
            finish(c)
        return
    # fpmd closed the connection
    if c.checked() and not c.busy and c.replies != c.expect:
        c.problem("fpmd closed it after %d replies to %d requests" %
            (c.replies, c.expect))
    if c.inbuf and not c.busy:
        c.problem("fpmd closed it in the middle of a reply: %r" %
            c.inbuf[:200])
    finish(c)

def new_conn(cid):
    end = R.choice(["close", "close", "rst", "abandon", "halfclose",
        "halfclose", "read", "read", "read"])
    how = R.choice(["all", "all", "chunks", "slow", "bytes"])
    data, expect = screen(stream(), end == "read")
    if how == "bytes" and len(data) > 4000:
        how = "chunks"
    return Conn(cid, data, how, end, expect)

def main():
    start = time.monotonic()
    stop_at = start + SECS
    cid, next_ping, burst_end = 0, start, 0
    pending = []                    # made, not connected yet
    while True:
        now = time.monotonic()
        if now < stop_at:
            while sum(c.release is None for c in live) + len(pending) < \
                    ACTIVE:
                cid += 1
                c = new_conn(cid)
                trace.write("conn %d: %s %s %d bytes, expect %s: %r\n" % (
                    cid, c.how, c.end, len(c.data), c.expect, c.data[:120]))
                pending.append(c)
                # drawn whatever happens, so that the bytes sent
                # depend on the seed alone
                burst = R.random() < 0.01, R.randint(50, 300), \
                    R.uniform(0.5, 2)
                if burst[0] and not burst_end:
                    stats["idle_bursts"] += 1
                    for _ in range(burst[1]):
                        pending.append(Conn("idle", b'', "all", "hold",
                            None))
                    burst_end = now + burst[2]
            if now >= next_ping:
                stats["pings"] += 1
                pending.insert(0, Conn("ping%d" % stats["pings"],
                    b'{"cmd":"ping"}\n', "all", "read", 1, limit=5))
                next_ping = now + 0.5
        if burst_end and now >= burst_end:
            for h in held:
                if h.end == "hold":
                    finish(h)
            held[:] = [h for h in held if not h.done]
            burst_end = 0
        still = []
        for c in pending:
            if c.give_up is None:
                c.give_up = now + 5
            if connect(c):
                c.give_up = None
                if c.end == "hold":
                    held.append(c)
                    continue
                live.append(c)
                want(c, now)
                if not c.chunks:
                    after_send(c, now)
            elif now > c.give_up:
                problems.append("conn %s: could not connect for 5 s" % c.cid)
            else:
                still.append(c)
        pending = still
        for key, ev in sel.select(0.005):
            c = key.data
            if not c.done and ev & selectors.EVENT_READ:
                on_read(c, now)
            if not c.done and ev & selectors.EVENT_WRITE:
                on_write(c, now)
        now = time.monotonic()
        for c in live:
            if not c.done and c.chunks and c.next_at and c.next_at <= now:
                on_write(c, now)
            if not c.done and c.give_up is not None and now > c.give_up:
                finish(c)
            if not c.done and c.release is not None and now > c.release:
                finish(c)
            if not c.done and c.deadline is not None and now > c.deadline:
                if c.checked():
                    c.problem("no reply for %d s" % c.limit)
                finish(c)
        live[:] = [c for c in live if not c.done]
        if now >= stop_at and not pending and \
                not any(c.deadline is not None for c in live):
            break
        if now >= stop_at + 12:
            for c in live:
                if c.deadline is not None:
                    c.problem("still open 12 s after the end")
            break
    for c in live + held:
        finish(c)

def run():
    try:
        main()
    except SystemExit:
        pass
    except Exception as e:          # a bug of this script: say so
        import traceback
        problems.append("generator error: " + traceback.format_exc())

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft != resource.RLIM_INFINITY and soft < 4096:   # bursts of idle clients
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096 if hard ==
        resource.RLIM_INFINITY else min(4096, hard), hard))
sys.setrecursionlimit(100000)       # json.loads of 10000 levels
threading.stack_size(512 << 20)
t = threading.Thread(target=run)
t.start()
t.join()
trace.close()
print("stats: " + json.dumps(stats))
for p in problems[:30]:
    print("PROBLEM: " + p)
if len(problems) > 30:
    print("... and %d more problems" % (len(problems) - 30))
sys.exit(1 if problems else 0)
EOF

# status_field EXPR: EXPR over `fpmctl --json status` (d), or fails.
status_field() {
	ctl --json status | json "$1"
}

setup_file() {
	# contrib/setup.sh installs python3; without it there is no generator.
	command -v "$PYTHON" >/dev/null 2>&1 ||
		skip "python3 is not installed (the generator is python3)"
}

teardown() {
	teardown_stack
}

@test "control socket: 10 s of hostile clients leave fpmd answering, serving and stopping cleanly" {
	local seed secs dir st gen_status gen_output
	seed=${CONTROL_FUZZ_SEED:-$((RANDOM * 32768 + RANDOM))}
	secs=${CONTROL_FUZZ_SECS:-10}
	dir=$(t_tmp)/fuzz
	mkdir -p "$dir"
	echo "# control-fuzz seed $seed (rerun: CONTROL_FUZZ_SEED=$seed)" >&3

	fpmd_conf
	# bounds what a scale let through can start
	sed -i '1i process.max = 4' "$FPMD_CONF"
	fpmd_start
	nginx_start
	assert_body_equals "$BASE_URL/hello.php" "Hello, world!"

	run "$PYTHON" -c "$FUZZ_PY" "$FPMD_CTL" "$seed" "$secs" "$dir"
	gen_status=$status gen_output=$output
	echo "# $(grep '^stats: ' <<<"$gen_output")" >&3
	proc_alive "$FPMD_PID" || {
		printf '%s\n' "$gen_output" >&2
		tail -n 50 "$FPMD_LOG" >&2
		fail "fpmd died under the generator (seed $seed; trace in $dir/trace)"
	}

	run ctl ping
	((status == 0)) || fail "ping after the fuzz: exit $status: $output"

	st=$(ctl --json status) || fail "status after the fuzz failed"
	assert_eq true "$(json 'd["ok"]' <<<"$st")"
	assert_eq running "$(json 'd["state"]' <<<"$st")"
	assert_eq '["www"]' "$(json '[p["pool"] for p in d["pools"]]' <<<"$st")"

	# Whatever a scale let through set, the pool takes its size back.
	run ctl scale www 2
	((status == 0)) || fail "scale back to 2: exit $status: $output"
	wait_until 15 count_is 2 status_field 'd["pools"][0]["total_processes"]' ||
		fail "www did not come back to 2 workers: $(ctl --json status)"
	assert_eq 2 "$(status_field 'd["pools"][0]["max_children"]')"

	for _ in 1 2 3 4 5; do
		assert_body_equals "$BASE_URL/hello.php" "Hello, world!"
	done
	# fpmd logs no alert, and no sanitizer report from an ASan build
	if grep -E 'ALERT:|AddressSanitizer|runtime error:' "$FPMD_LOG" >&2; then
		fail "fpmd's log has alerts (seed $seed)"
	fi

	# Last, as it says less than the above: the replies were right.
	((gen_status == 0)) || {
		printf '%s\n' "$gen_output" >&2
		fail "the generator saw wrong or missing replies (seed $seed;" \
			"trace in $dir/trace; bats --no-tempdir-cleanup keeps it)"
	}
}
