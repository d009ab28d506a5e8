#!/bin/sh
# Runs the bundled config (etc/fpmd.conf) in the foreground behind nginx on
# http://127.0.0.1:8080/, serving contrib/demo/.  Ctrl-C stops both.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd -P)
port=${DEMO_PORT:-8080}
dir=$(mktemp -d /tmp/fpmd-demo.XXXXXX)
chmod 755 "$dir"

[ -x "$top/fpmd" ] || { echo "demo.sh: build first: contrib/setup.sh" >&2; exit 1; }

cat > "$dir/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
error_log $dir/nginx-error.log;
pid $dir/nginx.pid;
$( [ "$(id -u)" = 0 ] && echo "user root;" )
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    fastcgi_temp_path $dir/fastcgi;
    proxy_temp_path $dir/proxy;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    server {
        listen 127.0.0.1:$port;
        root $top/contrib/demo;
        index index.php;
        location ~ [^/]\.php(/|\$) {
            fastcgi_split_path_info ^(.+?\.php)(/.*)\$;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
            fastcgi_param PATH_INFO \$fastcgi_path_info;
            fastcgi_pass unix:/tmp/fpmd-www.sock;
        }
    }
}
NGINX

nginx -c "$dir/nginx.conf" &
nginx_pid=$!
trap 'kill $nginx_pid 2>/dev/null; wait $nginx_pid 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
echo "fpmd demo: http://127.0.0.1:$port/  (Ctrl-C stops fpmd and nginx)"
root_flag=
[ "$(id -u)" = 0 ] && root_flag=-R
"$top/fpmd" $root_flag -c "$top/etc/fpmd.conf"
