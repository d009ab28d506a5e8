#!/usr/bin/env bats
# pm.status_listen: the master itself answers a pool's status page and
# ping on an address of its own, without PHP, so a health check is answered
# while every worker is busy.  Compared with php-fpm 8.2's pm.status_listen
# (a hidden pool of PHP workers) for names and syntax, values masked.

# shellcheck disable=SC2030,SC2031,SC2119,SC2120,SC2153,SC2154

load helper
bats_require_minimum_version 1.5.0

teardown() {
	teardown_stack
}

# fcgi SOCKET SCRIPT_NAME [QUERY [METHOD]]: one request with cgi-fcgi, as a
# health check sends it; headers and body on stdout.
fcgi() {
	env -i PATH="$PATH" SCRIPT_NAME="$2" SCRIPT_FILENAME="$2" \
		QUERY_STRING="${3:-}" REQUEST_METHOD="${4:-GET}" \
		SERVER_PROTOCOL=HTTP/1.1 \
		timeout 10 cgi-fcgi -bind -connect "$1" 2>/dev/null
}

# body: what follows the blank line of a CGI answer on stdin.
body() {
	tr -d '\r' | sed '1,/^$/d'
}

norm() {
	"$PYTHON" "$FPMD_SRCDIR/t/statusnorm.py" "$@"
}

# busy N: N requests to ctl/sleep.php for 5 s on the pool socket, started
# in the background, returned once their scripts run.
busy() {
	local i
	for i in $(seq 1 "$1"); do
		bg_slow "busy$i" 5
	done
}

status_conf() {
	fpmd_conf 'pm.status_path = /status' 'ping.path = /ping' \
		"pm.status_listen = \"$BATS_TEST_TMPDIR/status.sock\"" "$@"
}

@test "pm.status_listen: status and ping answered by the master at once while every worker runs a 5 s script" {
	local t0 t1 out
	status_conf
	fpmd_start
	nginx_start
	busy 2
	t0=$(now_ms)
	out=$(fcgi "$BATS_TEST_TMPDIR/status.sock" /status json)
	t1=$(now_ms)
	(((t1 - t0) < 1000)) || fail "status took $((t1 - t0)) ms with the workers busy"
	assert_eq 2 "$(body <<<"$out" | json 'd["active processes"]')" "active processes"
	assert_eq 0 "$(body <<<"$out" | json 'd["idle processes"]')" "idle processes"
	assert_contains "$out" "Content-Type: application/json"
	t0=$(now_ms)
	out=$(fcgi "$BATS_TEST_TMPDIR/status.sock" /ping)
	t1=$(now_ms)
	(((t1 - t0) < 1000)) || fail "ping took $((t1 - t0)) ms with the workers busy"
	assert_eq pong "$(body <<<"$out")"
	# the busy requests are unaffected
	assert_full_body busy1
	assert_full_body busy2
}

@test "pm.status_listen: every format is the pool's page, as php-fpm's pm.status_listen gives it" {
	local q f ref test
	phpfpm_start 'pm.status_path = /status' 'ping.path = /ping' \
		"pm.status_listen = $BATS_TEST_TMPDIR/ref-status.sock"
	wait_until 10 unix_connect "$BATS_TEST_TMPDIR/ref-status.sock"
	status_conf
	fpmd_start
	for q in "" full json "json&full" xml "xml&full" html "html&full"; do
		case $q in
		*html*) f=html ;; *xml*) f=xml ;; *json*) f=json ;; *) f=text ;;
		esac
		ref=$(fcgi "$BATS_TEST_TMPDIR/ref-status.sock" /status "$q" | body | norm "$f")
		test=$(fcgi "$BATS_TEST_TMPDIR/status.sock" /status "$q" | body | norm "$f")
		[[ -n $test ]] || fail "no answer for ?$q"
		assert_eq "$ref" "$test" "status?$q on pm.status_listen"
	done
	assert_eq "$(fcgi "$BATS_TEST_TMPDIR/ref-status.sock" /ping | body)" \
		"$(fcgi "$BATS_TEST_TMPDIR/status.sock" /ping | body)" "ping"
}

@test "pm.status_listen: another path gets 404 File not found; a pool without pm.status_path answers status on /" {
	local out
	fpmd_conf "pm.status_listen = \"$BATS_TEST_TMPDIR/status.sock\""
	fpmd_start
	out=$(fcgi "$BATS_TEST_TMPDIR/status.sock" /index.php)
	assert_contains "$out" "Status: 404"
	assert_eq "File not found." "$(body <<<"$out")"
	out=$(fcgi "$BATS_TEST_TMPDIR/status.sock" / json)
	assert_eq www "$(body <<<"$out" | json 'd["pool"]')"
}

@test "pm.status_listen: silent and garbage peers do not hold it up" {
	local out
	status_conf
	fpmd_start
	"$PYTHON" - "$BATS_TEST_TMPDIR/status.sock" "$BATS_TEST_TMPDIR/held" 3>&- <<'PY' &
import socket, sys, time
path, mark = sys.argv[1], sys.argv[2]
held = []
for i in range(20):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    if i % 2:
        s.sendall(b'\x01\x01\x00\x01\xff\xff\x00\x00' + b'x' * 100)
    held.append(s)
open(mark, 'w').close()
time.sleep(8)
PY
	BG[holders]=$!
	wait_until 10 test -e "$BATS_TEST_TMPDIR/held"
	out=$(fcgi "$BATS_TEST_TMPDIR/status.sock" /ping)
	assert_eq pong "$(body <<<"$out")"
	run --separate-stderr ctl ping
	assert_eq 0 "$status"
}

@test "pm.status_listen clashing with a listen address is refused with FILE:LINE" {
	fpmd_conf "pm.status_listen = \"$BATS_TEST_TMPDIR/www.sock\""
	run "$FPMD_BIN" -t -R -c "$FPMD_CONF"
	[[ $status -ne 0 ]]
	assert_contains "$output" "$FPMD_CONF:"
	assert_contains "$output" "pm.status_listen address $BATS_TEST_TMPDIR/www.sock clashes with an address of pool www"
}

@test "pm.status_listen follows a reload: added, moved, removed" {
	local d=$BATS_TEST_TMPDIR
	fpmd_conf 'pm.status_path = /status'
	fpmd_start
	[[ ! -e $d/a.sock ]]
	sed -i "s|^    pm.status_path = /status|    pm.status_path = /status\n    pm.status_listen = \"$d/a.sock\"|" "$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "$stderr"
	assert_eq www "$(fcgi "$d/a.sock" /status json | body | json 'd["pool"]')"
	sed -i "s|$d/a.sock|$d/b.sock|" "$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "$stderr"
	assert_eq www "$(fcgi "$d/b.sock" /status json | body | json 'd["pool"]')"
	[[ ! -e $d/a.sock ]] || fail "the old status socket is still there"
	sed -i "/pm.status_listen/d" "$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "$stderr"
	[[ ! -e $d/b.sock ]] || fail "the status socket is still there after it was removed"
}
