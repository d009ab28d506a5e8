#!/usr/bin/env bats
# The status page and ping (pm.status_path, ping.path, ping.response) and
# fpm_get_status(), compared with php-fpm 8.2 for the same pool shape
# (static, 2 workers, /status and /ping), each behind its own nginx with the
# status location people write (t/helper.bash's template), and straight on
# the socket with Debian's cgi-fcgi, as health checks run it.
#
# Values differ between two servers (pids, times, the listen queue fpmd
# reads for unix sockets too); t/statusnorm.py masks them and keeps names,
# order and syntax, which must be equal.

# shellcheck disable=SC2030,SC2031,SC2119,SC2120,SC2153,SC2154

load helper
bats_require_minimum_version 1.5.0

# norm FORMAT [OPTIONS]: t/statusnorm.py, values masked.
norm() {
	"$PYTHON" "$FPMD_SRCDIR/t/statusnorm.py" "$@"
}

setup_file() {
	phpfpm_start -n php-fpm 'pm.status_path = /status' 'ping.path = /ping'
	nginx_start -n nginx-ref "$PHPFPM_SOCK"
	export REF_URL=$BASE_URL REF_SOCK=$PHPFPM_SOCK
	fpmd_conf 'pm.status_path = /status' 'ping.path = /ping'
	fpmd_start
	nginx_start -n nginx-test "$FPMD_SOCK"
	export TEST_URL=$BASE_URL TEST_SOCK=$FPMD_SOCK
	export FILE_FPMD_PID=$FPMD_PID FILE_FPMD_CTL=$FPMD_CTL
}

teardown_file() {
	teardown_stack
}

# A test's own fpmd (and nginx) go in teardown; the file's stay.
teardown() {
	[[ -n ${OWN_FPMD:-} ]] || return 0
	nginx_stop nginx-own || true
	fpmd_stop
}

# own_fpmd POOL_LINES...: an fpmd of this test only, with nginx in front;
# sets OWN_URL and OWN_SOCK.
own_fpmd() {
	FPMD_PID=
	FPMD_CTL=
	fpmd_conf "$@"
	fpmd_start
	OWN_FPMD=1
	nginx_start -n nginx-own "$FPMD_SOCK"
	OWN_URL=$BASE_URL OWN_SOCK=$FPMD_SOCK
}

# fcgi SOCKET SCRIPT_NAME [QUERY [METHOD]]: one request with cgi-fcgi, as a
# health check sends it; the answer (headers and body) on stdout, what came
# on the FastCGI stderr stream in $(t_tmp)/fcgi.err.
fcgi() {
	env -i PATH="$PATH" SCRIPT_NAME="$2" SCRIPT_FILENAME="$2" \
		QUERY_STRING="${3:-}" REQUEST_METHOD="${4:-GET}" \
		SERVER_PROTOCOL=HTTP/1.1 \
		cgi-fcgi -bind -connect "$1" 2>"$(t_tmp)/fcgi.err"
}

# get URL OUT: curl -i of URL into OUT.head (CRs removed, Date masked) and
# OUT.body.
get() {
	curl -sS --max-time 30 -D "$2.raw" -o "$2.body" "$1" || return 1
	tr -d '\r' <"$2.raw" | sed -E 's/^Date: .*/Date: DATE/' >"$2.head"
}

# fmt QUERY: the format a status query asks for.
fmt() {
	case $1 in
	*html*) echo html ;;
	*xml*) echo xml ;;
	*json*) echo json ;;
	*openmetrics*) echo openmetrics ;;
	*) echo text ;;
	esac
}

# page_json BASE: the status page as JSON (full), on stdout.
page_json() {
	curl -sS --max-time 30 "$1/status?json&full"
}

@test "status: every format, with and without full, is php-fpm's, values masked" {
	local d q f out ref extra
	d=$(t_tmp)
	for q in "" full json "json&full" xml "xml&full" html "html&full" \
		openmetrics "openmetrics&full"; do
		f=$(fmt "$q")
		get "$REF_URL/status?$q" "$d/ref"
		get "$TEST_URL/status?$q" "$d/test"
		assert_eq "$(cat "$d/ref.head")" "$(cat "$d/test.head")" \
			"headers of /status?$q"
		ref=$(norm "$f" --php-fpm <"$d/ref.body")
		extra=
		[[ $q == "openmetrics&full" ]] && extra=--drop-fpmd-extras
		out=$(norm "$f" $extra <"$d/test.body")
		assert_eq "$ref" "$out" "body of /status?$q (masked)"
	done
	# full lists both workers, and the text block of one is php-fpm's
	get "$TEST_URL/status?full" "$d/test"
	assert_eq 2 "$(grep -c '^\*\{24\}$' "$d/test.body")"
	assert_match "$(cat "$d/test.body")" $'\npid:                  [0-9]+\nstate:                (Idle|Running)\nstart time:           [0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\n'
}

@test "status: the start time is printed as php-fpm prints it" {
	local want
	# php-fpm's own line for fpmd's start time: date(1) in the same zone
	want=$(page_json "$TEST_URL" | json 'd["start time"]')
	want=$(date -d "@$want" '+%d/%b/%Y:%H:%M:%S %z')
	http "$TEST_URL/status"
	assert_contains "$HTTP_BODY" $'\nstart time:           '"$want"$'\n'
	http "$TEST_URL/status?html"
	assert_contains "$HTTP_BODY" "<tr><th>start time</th><td>$want</td></tr>"
	http "$TEST_URL/status?xml"
	assert_match "$HTTP_BODY" $'\n<start-time>[0-9]+</start-time>\n'
}

@test "status: JSON parses, with php-fpm's keys, order and types" {
	local shape ref test
	shape='[[k, type(v).__name__] for k, v in d.items() if k != "processes"] + [[[k, type(v).__name__] for k, v in p.items()] for p in d["processes"]]'
	ref=$(page_json "$REF_URL" | json "$shape")
	test=$(page_json "$TEST_URL" | json "$shape")
	assert_eq "$ref" "$test"
	# integers as integers, the cpu as a number
	assert_contains "$test" '["accepted conn", "int"]'
	assert_contains "$test" '["start time", "int"]'
	assert_contains "$test" '["last request cpu", "float"]'
	# the workers are fpmd's, and the one answering says it is busy
	test=$(page_json "$TEST_URL")
	assert_eq "$(worker_pids "$FILE_FPMD_PID" | tr '\n' ' ' | sed 's/ $//')" \
		"$(json '" ".join(sorted(str(p["pid"]) for p in d["processes"]))' <<<"$test")"
	assert_eq '["Running", "/status?json&full", "-"]' \
		"$(json '[[p["state"], p["request uri"], p["script"]] for p in d["processes"] if p["state"] == "Running"][0]' <<<"$test")"
	assert_eq 1 "$(json 'd["active processes"]' <<<"$test")"
	assert_eq 1 "$(json 'd["idle processes"]' <<<"$test")"
}

@test "status: OpenMetrics passes a strict parser; php-fpm's families and fpmd's workers" {
	local d want got
	d=$(t_tmp)
	# php-fpm's families, names and types in order, from its own page
	curl -sS --max-time 30 "$REF_URL/status?openmetrics" |
		sed -n 's/^# TYPE \([^ ]*\) \(.*\)/\1 \2/p' >"$d/ref.types"
	assert_eq 12 "$(grep -c '' "$d/ref.types")"
	for q in openmetrics "openmetrics&full"; do
		curl -sS --max-time 30 "$TEST_URL/status?$q" >"$d/om"
		run "$PYTHON" - "$d/om" <<'EOF'
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
for f in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in f.samples:
        print(f.name, f.type, s.name, ",".join("%s=%s" % kv for kv in sorted(s.labels.items())), s.value)
EOF
		assert_eq 0 "$status" "strict parse of ?$q: $output"
		printf '%s\n' "$output" >"$d/parsed"
		want=$(cat "$d/ref.types")
		got=$(awk '$1 !~ /^phpfpm_process_/ { print $1, $2 }' "$d/parsed" | uniq)
		assert_eq "$want" "$got" "families of ?$q"
	done
	# with full, every worker once per series, labelled by pool and pid
	local pids
	pids=$(worker_pids "$FILE_FPMD_PID" | tr '\n' ' ' | sed 's/ $//')
	for m in phpfpm_process_state phpfpm_process_requests_total \
		phpfpm_process_request_duration phpfpm_process_last_request_cpu \
		phpfpm_process_last_request_memory; do
		got=$(awk -v m="$m" '$3 == m { print $4 }' "$d/parsed" |
			sed -E 's/.*pid=([0-9]+).*/\1/' | sort -n | tr '\n' ' ' | sed 's/ $//')
		assert_eq "$pids" "$got" "pids of $m"
		assert_eq 0 "$(awk -v m="$m" '$3 == m && $4 !~ /(^|,)pool=www(,|$)/' "$d/parsed" | grep -c '')" \
			"pool label of $m"
	done
	# the worker answering is Running
	assert_eq 1 "$(awk '$3 == "phpfpm_process_state" && $4 ~ /state=Running/' "$d/parsed" | grep -c '')"
}

@test "status and ping: HEAD gets php-fpm's headers and no body" {
	local d p q
	d=$(t_tmp)
	for p in "/status" "/status?json" "/ping"; do
		curl -sS -I --max-time 30 "$REF_URL$p" | tr -d '\r' |
			sed -E 's/^Date: .*/Date: DATE/' >"$d/ref"
		curl -sS -I --max-time 30 "$TEST_URL$p" | tr -d '\r' |
			sed -E 's/^Date: .*/Date: DATE/' >"$d/test"
		assert_eq "$(cat "$d/ref")" "$(cat "$d/test")" "HEAD $p"
		assert_contains "$(cat "$d/test")" "Cache-Control: no-cache, no-store, must-revalidate, max-age=0"
	done
	# on the socket: the header block, and nothing after it
	for p in /status /ping; do
		for q in "" json; do
			fcgi "$REF_SOCK" "$p" "$q" HEAD >"$d/ref"
			fcgi "$TEST_SOCK" "$p" "$q" HEAD >"$d/test"
			cmp "$d/ref" "$d/test"
			assert_eq "" "$(sed '1,/^\r$/d' "$d/test")" "body of HEAD $p?$q"
		done
	done
}

@test "ping: pong with php-fpm's headers, through nginx and cgi-fcgi, nothing on stderr" {
	local d
	d=$(t_tmp)
	get "$REF_URL/ping" "$d/ref"
	get "$TEST_URL/ping" "$d/test"
	assert_eq "$(cat "$d/ref.head")" "$(cat "$d/test.head")"
	assert_eq pong "$(cat "$d/test.body")"
	cmp "$d/ref.body" "$d/test.body"
	fcgi "$REF_SOCK" /ping >"$d/ref"
	fcgi "$TEST_SOCK" /ping >"$d/test"
	cmp "$d/ref" "$d/test"
	assert_eq "" "$(cat "$d/fcgi.err")" "FastCGI stderr of /ping"
	assert_eq $'Content-type: text/plain;charset=UTF-8\r\nExpires: Thu, 01 Jan 1970 00:00:00 GMT\r\nCache-Control: no-cache, no-store, must-revalidate, max-age=0\r\n\r\npong' \
		"$(cat "$d/test")"
}

@test "status: cgi-fcgi on the socket, every format, as health checks run it" {
	local d q f
	d=$(t_tmp)
	for q in "" full json "json&full" xml html openmetrics; do
		f=$(fmt "$q")
		fcgi "$REF_SOCK" /status "$q" >"$d/ref"
		fcgi "$TEST_SOCK" /status "$q" >"$d/test"
		assert_eq "" "$(cat "$d/fcgi.err")" "FastCGI stderr of /status?$q"
		assert_eq "$(sed '/^\r$/q' "$d/ref")" "$(sed '/^\r$/q' "$d/test")" \
			"headers of /status?$q"
		assert_eq "$(sed '1,/^\r$/d' "$d/ref" | norm "$f" --php-fpm)" \
			"$(sed '1,/^\r$/d' "$d/test" | norm "$f")" "body of /status?$q"
	done
	# What php-fpm makes of a query, fpmd makes of it: PHP's $_GET names,
	# and php-fpm's prefix rule ("?j" is json, "?x" xml).
	for q in "j" "x" "o" "a=1&json=2&xml" "%6Aso%6E" "json%5B%5D=1" \
		"+json" "json[" "js.on" "JSON" "json&fulll" "json&fu" "xml&html"; do
		fcgi "$REF_SOCK" /status "$q" | sed '1,/^\r$/d' >"$d/ref"
		fcgi "$TEST_SOCK" /status "$q" | sed '1,/^\r$/d' >"$d/test"
		f=$(fmt "$(head -c 200 "$d/ref" | sed -n '1s/^{.*/json/p;1s/^<?xml.*/xml/p;1s/^<!DOCTYPE.*/html/p;1s/^# HELP.*/openmetrics/p')")
		assert_eq "$(norm "$f" --php-fpm <"$d/ref")" "$(norm "$f" <"$d/test")" \
			"/status?$q"
	done
}

@test "status: answered by the free worker while the other one is busy" {
	local st busy
	bg_slow slow 4 "$TEST_URL"
	st=$(page_json "$TEST_URL")
	assert_eq 2 "$(json 'd["active processes"]' <<<"$st")"
	assert_eq 0 "$(json 'd["idle processes"]' <<<"$st")"
	busy=$(json '[p for p in d["processes"] if p["request uri"].startswith("/ctl/sleep.php")][0]' <<<"$st")
	assert_eq Running "$(json 'd["state"]' <<<"$busy")"
	assert_eq "$WWW_ROOT/ctl/sleep.php" "$(json 'd["script"]' <<<"$busy")"
	assert_eq "$(cat "$(t_tmp)/slow.mark")" "$(json 'd["pid"]' <<<"$busy")"
	# and in every format, from the same worker
	assert_status "$TEST_URL/status?openmetrics" 200
	assert_contains "$HTTP_BODY" $'\nphpfpm_active_processes 2\n'
	assert_full_body slow
}

@test "status: the counters move as php-fpm's do" {
	local base a b c
	for base in "$REF_URL" "$TEST_URL"; do
		a=$(page_json "$base" | json 'd["accepted conn"]')
		b=$(page_json "$base" | json 'd["accepted conn"]')
		# the status request itself counts
		assert_eq $((a + 1)) "$b" "accepted conn at $base"
		assert_status "$base/hello.php" 200
		assert_status "$base/ping" 200
		c=$(page_json "$base" | json '[d["accepted conn"], d["active processes"], d["idle processes"], d["total processes"], d["max active processes"] >= 1, d["max children reached"], d["slow requests"]]')
		assert_eq "[$((b + 3)), 1, 1, 2, true, 0, 0]" "$c" "figures at $base"
	done
}

@test "status: one source: fpmctl status and the page agree; the unix listen queue is real" {
	local page st
	page=$(page_json "$TEST_URL")
	st=$(FPMD_CTL=$FILE_FPMD_CTL ctl --json status --full)
	assert_eq "$(json '[d["accepted conn"], d["start time"], d["total processes"], d["listen queue len"], d["max children reached"], d["slow requests"]]' <<<"$page")" \
		"$(json '[d["pools"][0][k] for k in ["accepted_conn", "start_time", "total_processes", "listen_queue_len", "max_children_reached", "slow_requests"]]' <<<"$st")"
	assert_eq "$(json 'sorted(p["pid"] for p in d["processes"])' <<<"$page")" \
		"$(json 'sorted(p["pid"] for p in d["pools"][0]["processes"])' <<<"$st")"
	# the socket's backlog, read from the kernel (php-fpm shows 0)
	local max
	max=$(cat /proc/sys/net/core/somaxconn)
	((max > 511)) && max=511
	assert_eq "$max" "$(json 'd["listen queue len"]' <<<"$page")"
	assert_eq 0 "$(page_json "$REF_URL" | json 'd["listen queue len"]')"
}

@test "fpm_get_status(): php-fpm's keys and types, from the same figures" {
	local ref test
	ref=$(curl -sS --max-time 30 "$REF_URL/feat/status.php?x=1")
	test=$(curl -sS --max-time 30 "$TEST_URL/feat/status.php?x=1")
	assert_eq "$(json '[d["pool"], d["procs"]]' <<<"$ref")" \
		"$(json '[d["pool"], d["procs"]]' <<<"$test")"
	assert_contains "$(json 'd["pool"]' <<<"$test")" '["procs", "array"]'
	assert_eq 2 "$(json 'len(d["procs"])' <<<"$test")"
	assert_eq '["Running", "GET", "/feat/status.php", "x=1", "-"]' \
		"$(json '[d["self"][k] for k in ["state", "request-method", "request-uri", "query-string", "user"]]' <<<"$test")"
	assert_eq "$WWW_ROOT/feat/status.php" "$(json 'd["self"]["script"]' <<<"$test")"
	assert_eq '["www", "static", 1, 1, 2]' \
		"$(json '[d["status"][k] for k in ["pool", "process-manager", "active-processes", "idle-processes", "total-processes"]]' <<<"$test")"
}

@test "ping.response and pm.status_path of one's own; ping with no status page" {
	own_fpmd 'ping.path = /ping' 'ping.response = "I am alive"'
	assert_body_equals "$OWN_URL/ping" "I am alive"
	assert_header "$OWN_URL/ping" "Content-Type: text/plain;charset=UTF-8"
	# no pm.status_path: /status is an ordinary request (no such script)
	assert_status "$OWN_URL/status" 404
	assert_eq "I am alive" "$(fcgi "$OWN_SOCK" /ping | sed '1,/^\r$/d')"
	run -0 --separate-stderr ctl --json config
	assert_eq '["/ping", "I am alive", null]' \
		"$(json '[d["config"]["pools"][0][k] for k in ["ping.path", "ping.response", "pm.status_path"]]' <<<"$output")"
}

@test "pm.status_path and ping.path: php-fpm's checks, with the file and line" {
	local -a root=()
	((EUID == 0)) && root=(-R)
	fpmd_conf 'pm.status_path = status' 'ping.path = "/p ing"'
	run -78 --separate-stderr "$FPMD_BIN" "${root[@]}" -t -c "$FPMD_CONF"
	assert_contains "$stderr" "fpmd.conf:8: pool www: pm.status_path: the status path 'status' must start with a '/'"
	assert_contains "$stderr" "fpmd.conf:9: pool www: ping.path: the ping path '/p ing' must contain only the following characters '[alphanum]/_-.~'"
	fpmd_conf 'pm.status_path = /' 'ping.path = /ping' 'ping.response = ""'
	run -78 --separate-stderr "$FPMD_BIN" "${root[@]}" -t -c "$FPMD_CONF"
	assert_contains "$stderr" "fpmd.conf:8: pool www: pm.status_path: the status path '/' is not long enough"
	assert_contains "$stderr" "fpmd.conf:10: pool www: ping.response: the ping response page '' is not long enough"
	fpmd_conf 'pm.status_path = /fpm-status_1.~x' 'ping.path = /a/b'
	run -0 --separate-stderr "$FPMD_BIN" "${root[@]}" -t -c "$FPMD_CONF"
}

# The layout of a scoreboard slot, from fpmd's own header: the offset of
# the query string in it and its size.
sb_layout() {
	local d
	d=$(t_tmp)
	cat >"$d/sb.c" <<'EOF'
#include <stdio.h>
#include "fpmd.h"
int main(void) {
	printf("%zu %zu\n", offsetof(struct sb_slot, query),
	    sizeof(struct sb_slot));
	return 0;
}
EOF
	cc -D_GNU_SOURCE -DPACKAGE_VERSION='"t"' -I"$FPMD_SRCDIR/common" \
		-I"$FPMD_SRCDIR/daemon" -o "$d/sb" "$d/sb.c" && "$d/sb"
}

@test "a worker that scribbles over its slot upsets neither the master nor the other worker" {
	require_php_ext FFI
	local d layout qoff size marker st
	d=$(t_tmp)
	layout=$(sb_layout) || skip "no C compiler to read the slot layout"
	read -r qoff size <<<"$layout"
	own_fpmd 'pm.status_path = /status' \
		'php_admin_value { ffi.enable = 1 }' \
		'php_admin_flag { opcache.enable = off }'
	marker=m$RANDOM$RANDOM$RANDOM
	bg_get scribble "$OWN_URL/feat/scribble.php?marker=$marker&query=$qoff&size=$size&s=4&mark=$d/scribble.mark"
	wait_until 15 test -s "$d/scribble.mark" || fail "the script did not scribble"
	assert_eq scribbled "$(cat "$d/scribble.mark")"
	# the master answers, and its reply is JSON
	run -0 --separate-stderr ctl --json status --full
	json 'd["pools"][0]["pool"]' <<<"$output"
	# the other worker answers every format, each still well formed
	page_json "$OWN_URL" | json 'd["pool"]'
	assert_status "$OWN_URL/status?openmetrics&full" 200
	"$PYTHON" -c 'import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
list(text_string_to_metric_families(sys.stdin.read()))' <<<"$HTTP_BODY"
	assert_status "$OWN_URL/status?xml&full" 200
	"$PYTHON" -c 'import sys, xml.dom.minidom; xml.dom.minidom.parseString(sys.stdin.buffer.read())' <"$HTTP_BODY_FILE"
	assert_status "$OWN_URL/status?html&full" 200
	assert_status "$OWN_URL/status?full" 200
	bg_wait scribble
	assert_eq 200 "$BG_CODE"
	# afterwards: the same master, both workers serve, nothing crashed
	proc_alive "$FPMD_PID"
	assert_status "$OWN_URL/hello.php" 200
	st=$(page_json "$OWN_URL")
	json 'd["accepted conn"]' <<<"$st"
	run grep -E 'signal|exited with' "$FPMD_LOG"
	assert_eq "" "$output" "fpmd log"
}
