#!/bin/bash
# Reload under load, fpmd against php-fpm 8.2, side by side on this machine.
#
# For each server: nginx in front, a steady load of concurrent requests for
# DURATION seconds while RELOADS reloads happen (fpmctl reload for fpmd,
# SIGUSR2 for php-fpm), then the count of failed requests (non-2xx answers
# and connection errors) as wrk reports them.
#
# usage: bench/reload.sh [DURATION] [RELOADS] [CONNECTIONS]
# PCT=SECONDS sets process_control_timeout for both servers (default: not
# set, each server's own default, which is what most php-fpm pools run).
# needs: a built tree (contrib/setup.sh), nginx, php-fpm8.2, wrk (apt-get
# install wrk).  Not a test: it prints numbers for docs/BENCHMARKS.md.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd -P)
duration=${1:-20}
reloads=${2:-20}
conns=${3:-16}
work=$(mktemp -d /tmp/fpmd-bench.XXXXXX)
chmod 755 "$work"
trap 'cleanup' EXIT

for tool in wrk nginx php-fpm8.2; do
	command -v $tool >/dev/null || { echo "reload.sh: needs $tool" >&2; exit 2; }
done

cleanup() {
	[ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
	[ -n "${fpmd_pid:-}" ] && kill -TERM "$fpmd_pid" 2>/dev/null
	[ -n "${fpm_pid:-}" ] && kill -TERM "$fpm_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

mkdir -p "$work/www"
cat > "$work/www/page.php" <<'PHP'
<?php
// A small page with some work in it: about a millisecond of PHP.
$a = [];
for ($i = 0; $i < 2000; $i++) { $a[] = md5((string)$i); }
sort($a);
echo count($a), " ", $a[0], "\n";
PHP

cat > "$work/fpmd.conf" <<CONF
php_ini = "/etc/php/8.2/fpm/php.ini"
control.socket = "$work/control.sock"
${PCT:+process_control_timeout = $PCT}
pool www {
    listen = "$work/fpmd.sock"
    listen.mode = 0666
    pm = static
    pm.max_children = 8
}
CONF

cat > "$work/php-fpm.conf" <<CONF
[global]
error_log = $work/php-fpm.log
daemonize = no
${PCT:+process_control_timeout = $PCT}
[www]
listen = $work/php-fpm.sock
listen.mode = 0666
pm = static
pm.max_children = 8
CONF

port_fpmd=$(free_port)
port_fpm=$(free_port)
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
$( [ "$(id -u)" = 0 ] && echo "user root;" )
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/b; fastcgi_temp_path $work/f;
    proxy_temp_path $work/p; uwsgi_temp_path $work/u; scgi_temp_path $work/s;
    server {
        listen 127.0.0.1:$port_fpmd;
        root $work/www;
        location ~ \.php\$ {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
            fastcgi_pass unix:$work/fpmd.sock;
        }
    }
    server {
        listen 127.0.0.1:$port_fpm;
        root $work/www;
        location ~ \.php\$ {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
            fastcgi_pass unix:$work/php-fpm.sock;
        }
    }
}
CONF

root_flag=
[ "$(id -u)" = 0 ] && root_flag=-R
"$top/fpmd" $root_flag -c "$work/fpmd.conf" 2>"$work/fpmd.log" &
fpmd_pid=$!
php-fpm8.2 $root_flag -y "$work/php-fpm.conf" -c /etc/php/8.2/fpm/php.ini \
    2>/dev/null &
fpm_pid=$!
nginx -c "$work/nginx.conf" &
for i in $(seq 100); do
	curl -sf "http://127.0.0.1:$port_fpmd/page.php" >/dev/null 2>&1 &&
	    curl -sf "http://127.0.0.1:$port_fpm/page.php" >/dev/null 2>&1 && break
	sleep 0.1
done

# run NAME PORT RELOAD-COMMAND...
run() {
	local name=$1 port=$2 interval
	shift 2
	interval=$(awk "BEGIN { print $duration / ($reloads + 1) }")
	wrk -t2 -c"$conns" -d"${duration}s" --latency \
	    "http://127.0.0.1:$port/page.php" > "$work/wrk-$name.txt" 2>&1 &
	local wrk_pid=$!
	for i in $(seq "$reloads"); do
		sleep "$interval"
		"$@" >/dev/null 2>&1 || echo "$name: reload $i failed" >&2
	done
	wait $wrk_pid
	local total non2xx errors
	total=$(awk '/requests in/ { print $1 }' "$work/wrk-$name.txt")
	non2xx=$(awk '/Non-2xx/ { print $NF }' "$work/wrk-$name.txt")
	errors=$(awk '/Socket errors/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' \
	    "$work/wrk-$name.txt")
	printf '%-8s %3d reloads  %7s requests  %5s non-2xx  %5s socket errors  %s req/s\n' \
	    "$name" "$reloads" "$total" "${non2xx:-0}" "${errors:-0}" \
	    "$(awk '/Requests\/sec/ { print $2 }' "$work/wrk-$name.txt")"
}

echo "reload under load: ${duration}s, $conns connections, $reloads reloads, 8 static workers, process_control_timeout ${PCT:-default}"
run fpmd "$port_fpmd" "$top/fpmctl" -s "$work/control.sock" reload
run php-fpm "$port_fpm" kill -USR2 "$fpm_pid"
