#!/bin/sh
# Builds fpmd's Debian package from this tree (debian/) and checks it
# without installing anything on the machine:
#   1. dpkg-buildpackage -us -uc -b in a copy of the tree (the build runs
#      the unit tests);
#   2. the .deb's control data (dpkg-deb -I) and contents (dpkg -c): the
#      programs, man pages, bash completion, systemd unit, /etc/fpmd.conf
#      as a conffile, the maintainer scripts dh wrote;
#   3. the .deb unpacked into a throwaway root (dpkg-deb -x): its fpmd
#      checks its own /etc/fpmd.conf, then runs it (the socket moved into
#      the throwaway root) behind a real nginx, which must serve the
#      packaged demo page through it; its fpmctl stops it.
# Needs debhelper, dpkg-dev, fakeroot and the build dependencies
# (dpkg-buildpackage names any that are missing), and nginx for step 3.
# Usage: contrib/deb-check.sh [OUTDIR]  (default: a temporary directory,
# removed at the end; with OUTDIR the .deb is left there).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd -P)
work=$(mktemp -d /tmp/fpmd-deb.XXXXXX)
chmod 755 "$work"
nginx_pid='' fpmd_pid=''
cleanup() {
	[ -z "$fpmd_pid" ] || kill "$fpmd_pid" 2>/dev/null || true
	[ -z "$nginx_pid" ] || kill "$nginx_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() {
	echo "deb-check: $*" >&2
	exit 1
}
# wait_for SECS CMD...: run CMD until it succeeds, for at most SECS.
wait_for() {
	n=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}

echo "== build"
# A copy of the tree as git has it (tracked and new files, not the build
# outputs): the package is built from clean sources, and the tree's own
# build is left alone.
mkdir "$work/src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	# shellcheck disable=SC2016
	(cd "$top" && git ls-files -co --exclude-standard -z |
		xargs -0 sh -c \
		    'for f; do [ -e "$f" ] && printf "%s\n" "$f"; done' sh |
		tar -cf - -T -) | tar -xf - -C "$work/src"
else
	(cd "$top" && tar -cf - .) | tar -xf - -C "$work/src"
fi
(cd "$work/src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 || {
	tail -40 "$work/build.log" >&2
	fail "dpkg-buildpackage failed (the last lines of its log are above)"
}
deb=$(ls "$work"/fpmd_*.deb)
echo "built $(basename "$deb")"

echo "== control data"
dpkg-deb -I "$deb"
dpkg-deb -f "$deb" Package | grep -qx fpmd ||
	fail "the package is not named fpmd"
dpkg-deb -f "$deb" Depends | grep -q 'libphp8\.2-embed' ||
	fail "Depends lacks libphp8.2-embed"
mkdir "$work/ctrl"
dpkg-deb -e "$deb" "$work/ctrl"
grep -qx /etc/fpmd.conf "$work/ctrl/conffiles" ||
	fail "/etc/fpmd.conf is not a conffile"
grep -q "deb-systemd-helper enable 'fpmd.service'" "$work/ctrl/postinst" ||
	fail "postinst does not enable fpmd.service"

echo "== contents"
dpkg -c "$deb" | awk '{ print $6 }' >"$work/contents"
for f in ./usr/sbin/fpmd ./usr/bin/fpmctl ./etc/fpmd.conf \
    ./lib/systemd/system/fpmd.service ./usr/share/man/man8/fpmd.8.gz \
    ./usr/share/man/man8/fpmctl.8.gz ./usr/share/man/man5/fpmd.conf.5.gz \
    ./usr/share/bash-completion/completions/fpmctl \
    ./usr/share/fpmd/demo/index.php ./usr/share/doc/fpmd/copyright; do
	grep -qx "$f" "$work/contents" || fail "$f is not in the package"
	echo "  $f"
done

echo "== unpacked in a throwaway root"
root=$work/root
dpkg-deb -x "$deb" "$root"
unit=$root/lib/systemd/system/fpmd.service
grep -q '^ExecStart=/usr/sbin/fpmd -c /etc/fpmd.conf' "$unit" ||
	fail "the unit does not run /usr/sbin/fpmd -c /etc/fpmd.conf"
! grep -n '^[^#]*/usr/local' "$unit" || fail "the unit still names /usr/local"
"$root/usr/sbin/fpmd" -v
"$root/usr/sbin/fpmd" -t -c "$root/etc/fpmd.conf" ||
	fail "the packaged fpmd refuses the packaged /etc/fpmd.conf"
# The packaged configuration, its sockets moved into the throwaway root.
sed -e "s|\"/run/fpmd/www.sock\"|\"$root/www.sock\"|" \
    "$root/etc/fpmd.conf" >"$root/fpmd.conf"
sed -i "1i control.socket = \"$root/control.sock\"" "$root/fpmd.conf"
grep -q "$root/www.sock" "$root/fpmd.conf" ||
	fail "the packaged /etc/fpmd.conf does not listen on /run/fpmd/www.sock"
"$root/usr/sbin/fpmd" -c "$root/fpmd.conf" >"$work/fpmd.log" 2>&1 &
fpmd_pid=$!
ctl() { "$root/usr/bin/fpmctl" -s "$root/control.sock" "$@"; }
wait_for 30 ctl ping || { cat "$work/fpmd.log" >&2; fail "fpmd did not start"; }

command -v nginx >/dev/null || command -v /usr/sbin/nginx >/dev/null ||
	fail "nginx is not installed (apt-get install nginx-light)"
port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
sed -e "s|listen 80;|listen 127.0.0.1:$port;|" \
    -e "s|root /var/www/html;|root $root/usr/share/fpmd/demo;|" \
    -e "s|include fastcgi_params;|include /etc/nginx/fastcgi_params;|" \
    -e "s|unix:/run/fpmd/www.sock|unix:$root/www.sock|" \
    "$root/usr/share/doc/fpmd/examples/nginx.conf" >"$work/site.conf"
cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
error_log $work/nginx-error.log;
pid $work/nginx.pid;
$( [ "$(id -u)" = 0 ] && echo "user root;" )
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $work/body;
    fastcgi_temp_path $work/fastcgi;
    proxy_temp_path $work/proxy;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    include $work/site.conf;
}
NGINX
PATH=$PATH:/usr/sbin nginx -c "$work/nginx.conf" &
nginx_pid=$!
wait_for 30 curl -sf -o /dev/null "http://127.0.0.1:$port/index.php" || {
	cat "$work/nginx-error.log" "$work/fpmd.log" >&2
	fail "the demo page is not served"
}
page=$(curl -sf "http://127.0.0.1:$port/index.php")
echo "$page" | grep -q 'Hello from fpmd' ||
	fail "the demo page is not fpmd's: $page"
echo "$page" | grep -q 'fpm-fcgi' ||
	fail "the demo page does not name the SAPI fpm-fcgi"
echo "served the demo page through nginx on port $port"
ctl status | sed -n '/^pool:/,/^accepted conn:/p'
ctl stop
wait "$fpmd_pid" || fail "fpmd exited with status $?"
fpmd_pid=
kill "$nginx_pid"
wait "$nginx_pid" 2>/dev/null || true
nginx_pid=

if [ $# -gt 0 ]; then
	mkdir -p "$1"
	cp "$deb" "$1/"
	echo "deb-check: ok, $1/$(basename "$deb")"
else
	echo "deb-check: ok"
fi
