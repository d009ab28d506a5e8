#!/bin/bash
# How long a big static pool takes to fill, fpmd against php-fpm 8.2, side
# by side on this machine, alternately (A B A B ...), ROUNDS rounds each.
#
# For each start: the time from exec of the server to the moment all N
# workers exist as processes AND a FastCGI request on the pool's socket is
# answered.  For fpmd also the time of a reload of that pool (fpmctl reload
# returns once the new generation's N workers are up).  Medians printed.
#
# usage: bench/fill.sh [WORKERS] [ROUNDS]        (default 1000 3)
# needs: a built tree (contrib/setup.sh), php-fpm8.2, python3.  Not a test:
# it prints numbers for docs/BENCHMARKS.md.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd -P)
n=${1:-1000}
rounds=${2:-3}
work=$(mktemp -d /tmp/fpmd-fill.XXXXXX)
chmod 755 "$work"
pid=
trap 'cleanup' EXIT

cleanup() {
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}

command -v php-fpm8.2 >/dev/null || { echo "fill.sh: needs php-fpm8.2" >&2; exit 2; }

cat > "$work/ok.php" <<'PHP'
<?php echo "ok\n";
PHP
chmod 644 "$work/ok.php"

cat > "$work/fpmd.conf" <<CONF
php_ini = "/etc/php/8.2/fpm/php.ini"
control.socket = "$work/control.sock"
pool www {
    listen = "$work/fpmd.sock"
    listen.mode = 0666
    pm = static
    pm.max_children = $n
}
CONF

cat > "$work/php-fpm.conf" <<CONF
[global]
error_log = $work/php-fpm.log
daemonize = no
[www]
listen = $work/fpm.sock
listen.mode = 0666
pm = static
pm.max_children = $n
CONF

# wait_full PID SOCK: until PID has N worker descendants and SOCK answers a
# request; prints the milliseconds since $t0.
wait_full() {
	python3 - "$1" "$2" "$n" "$work/ok.php" "$t0" <<'PY'
import os, socket, struct, sys, time
root, sock, want, script, t0 = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
def kids():
    c = {}
    for p in os.listdir('/proc'):
        if not p.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % p) as f:
                st = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        c.setdefault(st[1], []).append(p)
    return c
def workers():
    # the pool's workers: descendants at depth 2 (fpmd: master, prototype,
    # workers) or 1 (php-fpm: master, workers), whichever has more
    c = kids()
    d1 = c.get(root, [])
    d2 = [w for p in d1 for w in c.get(p, [])]
    return max(len(d1), len(d2))
def rec(t, body):
    return struct.pack('>BBHHBB', 1, t, 1, len(body), 0, 0) + body
def pair(k, v):
    return bytes([len(k), len(v)]) + k + v
def answered():
    p = b''.join(pair(k, v) for k, v in [(b'SCRIPT_FILENAME', script.encode()),
        (b'REQUEST_METHOD', b'GET'), (b'SCRIPT_NAME', b'/ok.php')])
    try:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        s.connect(sock)
        s.sendall(rec(1, struct.pack('>HB5x', 1, 0)) + rec(4, p) + rec(4, b'') + rec(5, b''))
        data = b''
        while b'ok' not in data:
            b = s.recv(4096)
            if not b:
                break
            data += b
        return b'ok' in data
    except OSError:
        return False
while True:
    if workers() >= want and answered():
        break
    if time.monotonic_ns() // 1000000 - t0 > 120000:
        print('timeout')
        sys.exit(1)
    time.sleep(0.005)
print(time.monotonic_ns() // 1000000 - t0)
PY
}

now_ms() { python3 -c 'import time; print(time.monotonic_ns() // 1000000)'; }

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

: > "$work/fpmd.times"; : > "$work/fpm.times"; : > "$work/reload.times"
for r in $(seq 1 "$rounds"); do
	t0=$(now_ms)
	# a session of its own, as php-fpm takes one (bench/run says why)
	setsid "$top/fpmd" -R -c "$work/fpmd.conf" 2> "$work/fpmd.log" &
	pid=$!
	wait_full "$pid" "$work/fpmd.sock" >> "$work/fpmd.times"
	t0=$(now_ms)
	"$top/fpmctl" -s "$work/control.sock" --timeout 120 reload >/dev/null
	echo $(($(now_ms) - t0)) >> "$work/reload.times"
	kill -TERM "$pid"; wait "$pid" || true; pid=

	t0=$(now_ms)
	php-fpm8.2 -F -R -y "$work/php-fpm.conf" -c /etc/php/8.2/fpm/php.ini 2>/dev/null &
	pid=$!
	wait_full "$pid" "$work/fpm.sock" >> "$work/fpm.times"
	kill -TERM "$pid"; wait "$pid" || true; pid=
	sleep 1
done
f=$(median < "$work/fpmd.times"); p=$(median < "$work/fpm.times")
printf 'static pool of %d workers, %d rounds, median ms from exec to all workers up and a request answered\n' "$n" "$rounds"
printf 'fpmd     %6d ms   (%s)\n' "$f" "$(tr '\n' ' ' < "$work/fpmd.times")"
printf 'php-fpm  %6d ms   (%s)\n' "$p" "$(tr '\n' ' ' < "$work/fpm.times")"
printf 'fpmd/php-fpm  %.2f\n' "$(echo "$f $p" | awk '{ print $1 / $2 }')"
printf 'fpmd reload of the %d-worker pool: median %d ms   (%s)\n' "$n" \
    "$(median < "$work/reload.times")" "$(tr '\n' ' ' < "$work/reload.times")"
