#!/usr/bin/env bats
# Past one host (docs/scaling.md): fpmd on TCP behind a load balancer.
# Two fpmd on two loopback ports behind one nginx upstream, one of them
# drained with `fpmctl stop` under wrk's load: no request may be lost.
# The Kubernetes example (contrib/k8s/fpmd.yaml): its fpmd.conf runs, and
# its FastCGI probe tells ready from not ready and alive from dead.

# The waits eval their condition, in single quotes on purpose.
# shellcheck disable=SC2016,SC2030,SC2031,SC2153,SC2154

load helper
bats_require_minimum_version 1.5.0

WRK_BIN=${WRK_BIN:-/usr/bin/wrk}

teardown() {
	local ret=0 p
	for p in ${OWN_FPMD_PIDS:-}; do
		proc_alive "$p" || continue
		_stop_daemon fpmd "$p" QUIT "" || ret=1
	done
	teardown_stack || ret=1
	return $ret
}

# tcp_fpmd NAME ADDRESS [POOL_LINES...]: start an fpmd called NAME (files
# in $(t_tmp)/NAME/) with a static pool of 4 workers listening on ADDRESS
# and a ping; sets NAME_PID and NAME_CTL through printf -v.
tcp_fpmd() {
	local name=$1 addr=$2 d
	shift 2
	d=$(t_tmp)/$name
	mkdir -p "$d"
	{
		echo 'log_level = notice'
		echo "php_ini = \"$PHP_INI\""
		echo "control.socket = \"$d/control.sock\""
		echo 'pool www {'
		echo "    listen = \"$addr\""
		echo '    pm = static'
		echo '    pm.max_children = 4'
		echo '    ping.path = /ping'
		local line
		for line in "$@"; do
			echo "    $line"
		done
		echo '}'
	} >"$d/fpmd.conf"
	# fpmd_start keeps one fpmd in FPMD_*; this one gets its own.
	FPMD_PID=
	BATS_TEST_TMPDIR=$d fpmd_start "$d/fpmd.conf" || return 1
	printf -v "${name}_PID" %s "$FPMD_PID"
	printf -v "${name}_CTL" %s "$FPMD_CTL"
	OWN_FPMD_PIDS="${OWN_FPMD_PIDS:-} $FPMD_PID"
	FPMD_PID=
}

# lb_nginx [--keepalive] PORT...: nginx on a free port, an upstream of
# the fpmd on 127.0.0.1:PORT..., with the retry a balancer in front of
# fpmd wants: a connection refused or reset before any answer goes to the
# next server.  --keepalive: FastCGI connections are kept (keepalive 4,
# fastcgi_keep_conn on).  Its access log says which server answered.
# Sets LB_URL and LB_LOG.
lb_nginx() {
	local dir port token pid p servers='' user='' keep='' ka=''
	if [[ ${1:-} == --keepalive ]]; then
		ka='        keepalive 4;'
		keep='fastcgi_keep_conn on;'
		shift
	fi
	dir=$(t_tmp)/nginx-lb
	mkdir -p "$dir"
	for p in "$@"; do
		servers+="        server 127.0.0.1:$p max_fails=1 fail_timeout=30s;"$'\n'
	done
	((EUID == 0)) && user='user root;'
	token="lb-$RANDOM$RANDOM"
	port=$(free_port)
	cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
$user
pid $dir/nginx.pid;
error_log $dir/error.log notice;
events { worker_connections 512; }
http {
    log_format lb '\$status|\$upstream_addr|\$upstream_status';
    access_log $dir/access.log lb;
    client_body_temp_path $dir/client_body;
    fastcgi_temp_path $dir/fastcgi_temp;
    proxy_temp_path $dir/proxy_temp;
    uwsgi_temp_path $dir/uwsgi_temp;
    scgi_temp_path $dir/scgi_temp;
    upstream fpmd_nodes {
$servers$ka
    }
    server {
        listen 127.0.0.1:$port;
        root $WWW_ROOT;
        location = /__nginx_ready { return 200 "$token"; }
        location ~ \\.php\$ {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
            fastcgi_pass fpmd_nodes;
            $keep
            fastcgi_next_upstream error timeout;
            fastcgi_connect_timeout 2s;
        }
    }
}
EOF
	_spawn "$dir/nginx.out" "$NGINX_BIN" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
	pid=$SPAWNED_PID
	_NGINX_PID[nginx-lb]=$pid
	_NGINX_DIR[nginx-lb]=$dir
	if ! wait_until "$START_TIMEOUT" _nginx_answers "$pid" "$port" "$token" ||
		! proc_alive "$pid"; then
		_dump_log nginx "$dir/error.log"
		fail "lb_nginx: nginx did not come up"
		return 1
	fi
	LB_URL=http://127.0.0.1:$port
	LB_LOG=$dir/access.log
}

# served_by PORT: how many requests the balancer's log says 127.0.0.1:PORT
# answered (the last server of a line is the one that answered).
served_by() {
	awk -F'|' -v a="127.0.0.1:$1" '{ n = split($2, s, ", ") } s[n] == a' \
		"$LB_LOG" | wc -l
}

# drain_under_load [--keepalive]: two fpmd behind one nginx upstream
# (with fastcgi_keep_conn and keepalive, or a connection per request),
# wrk's load on both, then A drained with fpmctl stop while wrk goes on.
# Every request wrk made must be answered 200: those A had in hand by A,
# those that found A gone (its queue reset at its exit, a kept-alive
# connection closed under nginx's next request) by B, through nginx's
# retry.  wrk's 4 connections are no more than one node's workers: with
# kept-alive FastCGI connections, a worker serves one connection until
# nginx closes it, and more connections than workers would queue for as
# long as the load lasts (as with php-fpm; docs/scaling.md).
drain_under_load() {
	[[ -x $WRK_BIN ]] || skip "needs wrk (Debian package wrk)"
	local pa pb out total a_before b_before a_after b_after retried
	local rc=0 wrk_pid d
	d=$(t_tmp)
	pa=$(free_port)
	tcp_fpmd A "127.0.0.1:$pa"
	pb=$(free_port)
	tcp_fpmd B "127.0.0.1:$pb"
	lb_nginx "$@" "$pa" "$pb"

	# 6 s of load on 4 connections, requests that take 20 ms in PHP:
	# there are requests in A's hands when its stop begins.
	"$WRK_BIN" -t 2 -c 4 -d 6s --timeout 10s \
		"$LB_URL/feat/nap.php?s=0.02" >"$d/wrk.out" 2>&1 3>&- &
	wrk_pid=$!
	wait_until 20 eval '(($(served_by "$pa") >= 20 && $(served_by "$pb") >= 20))' ||
		fail "both nodes should serve under load: A $(served_by "$pa"), B $(served_by "$pb")"

	run --separate-stderr "$FPMCTL" -s "$A_CTL" stop
	assert_eq 0 "$status" "fpmctl stop: $output $stderr"
	assert_contains "$output" 'fpmd stopped'
	proc_alive "$wrk_pid" ||
		fail "wrk ended before A was drained; nothing was tested"
	_exited "$A_PID" || fail "A (pid $A_PID) is still there after fpmctl stop"
	wait "$A_PID" || rc=$?
	assert_eq 0 "$rc" "A's exit status"
	a_before=$(served_by "$pa")
	b_before=$(served_by "$pb")

	# B alone takes the rest of the load.
	wait_until 10 eval '(($(served_by "$pb") >= b_before + 50))' ||
		fail "B did not take the load after A's stop"
	wait "$wrk_pid" || fail "wrk failed: $(cat "$d/wrk.out")"
	a_after=$(served_by "$pa")
	b_after=$(served_by "$pb")
	retried=$(grep -c ', ' "$LB_LOG") || true
	out=$(cat "$d/wrk.out")
	sed 's/^/# /' <<<"$out" | head -n 8 >&3
	echo "# A answered $a_after, B $b_before before A's stop and $b_after in all; $retried retried on B" >&3

	total=$(sed -nE 's/^ *([0-9]+) requests in .*/\1/p' <<<"$out")
	((total > 200)) || fail "wrk made only ${total:-no} requests: $out"
	assert_not_contains "$out" 'Socket errors'
	assert_not_contains "$out" 'Non-2xx or 3xx responses'
	# Every request nginx logged was answered 200, but those wrk's end
	# cut (499, one per connection at most), and none by A once it was
	# gone.
	assert_eq "" "$(awk -F'|' '$1 != 200 && $1 != 499' "$LB_LOG" | head -n 5)" \
		"answers other than 200"
	local cut
	cut=$(awk -F'|' '$1 == 499' "$LB_LOG" | wc -l)
	((cut <= 4)) || fail "$cut requests cut: $(grep '^499' "$LB_LOG" | head -n 8)"
	assert_eq "$a_before" "$a_after" "requests A answered after its stop"
}

@test "scaling: two fpmd behind one nginx (kept-alive connections), one drained with fpmctl stop under wrk, no request lost" {
	drain_under_load --keepalive
}

@test "scaling: two fpmd behind one nginx (a connection per request), one drained with fpmctl stop under wrk, no request lost" {
	drain_under_load
}

@test "scaling: fpmd -t passes the Kubernetes example's fpmd.conf" {
	"$PYTHON" -c 'import yaml' 2>/dev/null || skip "needs python3-yaml"
	local d
	d=$(t_tmp)
	k8s_extract "$d"
	run --separate-stderr "$FPMD_BIN" -t -c "$d/k8s.conf"
	assert_eq 0 "$status" "fpmd -t: $stderr"
	assert_contains "$stderr$output" 'test is successful'
}

# k8s_extract DIR: the ConfigMap's fpmd.conf (DIR/k8s.conf) and probe
# (DIR/fcgi-ping) from contrib/k8s/fpmd.yaml.
k8s_extract() {
	"$PYTHON" - "$FPMD_SRCDIR/contrib/k8s/fpmd.yaml" "$1" <<'EOF'
import os, sys, yaml
for doc in yaml.safe_load_all(open(sys.argv[1])):
    if doc and doc.get('kind') == 'ConfigMap':
        data = doc['data']
        open(os.path.join(sys.argv[2], 'k8s.conf'), 'w').write(data['fpmd.conf'])
        p = os.path.join(sys.argv[2], 'fcgi-ping')
        open(p, 'w').write(data['fcgi-ping'])
        os.chmod(p, 0o755)
        break
else:
    sys.exit('no ConfigMap')
EOF
}

@test "scaling: the Kubernetes example's probes: ready while a worker answers, alive while the master does" {
	"$PYTHON" -c 'import yaml' 2>/dev/null || skip "needs python3-yaml"
	command -v cgi-fcgi >/dev/null || skip "needs cgi-fcgi (libfcgi-bin)"
	local d port sport i
	d=$(t_tmp)
	k8s_extract "$d"
	port=$(free_port)
	sport=$(free_port)
	# The example as it is, on free ports and with the test's files.
	sed -e "s#listen = \"0.0.0.0:9000\"#listen = \"127.0.0.1:$port\"#" \
		-e "s#127.0.0.1:9001#127.0.0.1:$sport#" \
		-e "s#/run/fpmd/control.sock#$d/control.sock#" \
		-e "s#/etc/php/8.2/embed/php.ini#$PHP_INI#" \
		"$d/k8s.conf" >"$d/fpmd.conf"
	grep -q "127.0.0.1:$port" "$d/fpmd.conf"
	grep -q "127.0.0.1:$sport" "$d/fpmd.conf"
	fpmd_start "$d/fpmd.conf"
	local probe=$d/fcgi-ping

	run "$probe" "127.0.0.1:$port" /ping
	assert_eq 0 "$status" "readiness on the pool"
	run "$probe" "127.0.0.1:$sport" /ping
	assert_eq 0 "$status" "liveness on pm.status_listen"
	run "$probe" "127.0.0.1:$port" /ping nope
	assert_eq 1 "$status" "a wrong answer"
	run "$probe" "127.0.0.1:$port" /no-such-path
	assert_eq 1 "$status" "a path that is no ping"

	# Every worker busy: not ready (the probe times out), still alive.
	# The example's workers run as www-data: the script must be where
	# www-data can read it (the tree may be under a directory it cannot
	# enter, as CI's sanitizer build is; it got 404s there, never busy).
	mkdir -p "$d/www/feat"
	cp "$WWW_ROOT/feat/nap.php" "$d/www/feat/"
	chmod -R a+rX "$d/www"
	open_path "$d/www"
	ctl scale www 2 >/dev/null
	# Exactly two workers, both idle, first: a worker still starting
	# would leave the second request queued behind the first, and one of
	# the six told to leave may still accept a connection and then drop
	# it when SIGQUIT reaches it before the request's first byte does.
	wait_until 20 count_is '2 2' eval 'ctl status --json |
		json "\"%d %d\" % (d[\"pools\"][0][\"idle_processes\"], d[\"pools\"][0][\"total_processes\"])"' ||
		fail "the pool did not get down to two idle workers"
	for i in 1 2; do
		env -i PATH="$PATH" SCRIPT_FILENAME="$d/www/feat/nap.php" \
			SCRIPT_NAME=/feat/nap.php QUERY_STRING=s=12 REQUEST_METHOD=GET \
			timeout 40 cgi-fcgi -bind -connect "127.0.0.1:$port" \
			>"$d/busy$i.out" 2>&1 3>&- &
		BG[busy$i]=$!
	done
	wait_until 10 count_is 2 eval 'ctl status --json | json "d[\"pools\"][0][\"active_processes\"]"' ||
		fail "the two workers did not get busy"
	run "$probe" "127.0.0.1:$port" /ping
	assert_eq 1 "$status" "readiness with every worker busy"
	run "$probe" "127.0.0.1:$sport" /ping
	assert_eq 0 "$status" "liveness with every worker busy"
	wait "${BG[busy1]}" "${BG[busy2]}"
	unset 'BG[busy1]' 'BG[busy2]'
	assert_contains "$(cat "$d/busy1.out")" 'slept='
	run "$probe" "127.0.0.1:$port" /ping
	assert_eq 0 "$status" "ready again"

	# fpmd gone: neither.
	fpmd_stop
	run "$probe" "127.0.0.1:$port" /ping
	assert_eq 1 "$status" "readiness with fpmd stopped"
	run "$probe" "127.0.0.1:$sport" /ping
	assert_eq 1 "$status" "liveness with fpmd stopped"
}

# ping_from ADDRESS: the body fpmd at ADDRESS answers to a ping, or what
# the client saw instead.
ping_from() {
	"$FPMD_BUILDDIR/t/fcgi-client" -t 10 -b -p SCRIPT_NAME=/ping \
		-p SCRIPT_FILENAME=/ping -p REQUEST_METHOD=GET "$1" 2>&1 |
		grep -vE '^(STDOUT [0-9]+ bytes|END_REQUEST .*)$' | tr -d '\r'
}

@test "scaling: listen.allowed_clients serves the balancer's address and drops the others, saying which" {
	[[ -e /proc/net/if_inet6 ]] || skip "needs IPv6 on the loopback"
	local p out
	p=$(free_port)
	# Every address, IPv6 and IPv4; only ::1 may talk FastCGI.
	tcp_fpmd C "$p" 'listen.allowed_clients = "::1"'
	out=$(ping_from "::1:$p")
	assert_contains "$out" 'pong'
	out=$(ping_from "127.0.0.1:$p")
	assert_not_contains "$out" 'pong'
	assert_contains "$out" 'EOF'
	wait_log "Connection disallowed: IP address '127.0.0.1' has been dropped (listen.allowed_clients)" \
		10 "$(t_tmp)/C/fpmd.log"
	# The worker that dropped it serves on.
	assert_contains "$(ping_from "::1:$p")" 'pong'
}
