#!/bin/sh
# Installs what fpmd needs on Debian 12 (when run as root) and builds it in
# place.  Arguments are passed to ./configure (e.g. --enable-asan).
set -eu
cd "$(dirname "$0")/.."

# The last lines are for the tests only: ss (iproute2), DokuWiki (the
# application t/compat-app.bats drives through php-fpm and fpmd),
# cgi-fcgi (libfcgi-bin), the FastCGI client health checks use, and a
# strict OpenMetrics parser for the status page (python3-prometheus-client),
# getfacl for the sockets' ACLs (acl).
PACKAGES="build-essential autoconf automake pkg-config \
	libphp8.2-embed php8.2-dev libjansson-dev libconfuse-dev \
	bats nginx-light curl php8.2-fpm procps python3 \
	iproute2 dokuwiki libfcgi-bin python3-prometheus-client \
	acl"
# The man pages' linter (t/man.bats); bash-completion for the completion
# test (t/completion.bats).
PACKAGES="$PACKAGES mandoc groff-base bash-completion"
# What .ci/run's contrib/deb-check.sh builds the Debian package with.
PACKAGES="$PACKAGES debhelper"
# The web servers t/apache.bats, t/caddy.bats and t/lighttpd.bats put in
# front of fpmd and php-fpm; wrk for load and python3-yaml to read the
# Kubernetes example (t/scaling.bats).
PACKAGES="$PACKAGES apache2 caddy lighttpd wrk python3-yaml"
# The supervisors the tests run fpmd under (t/supervisord.bats, t/runit.bats,
# t/s6.bats), logrotate for contrib/logrotate, and systemd-analyze to check
# the shipped units (nothing of these is started: see below).
PACKAGES="$PACKAGES supervisor runit s6 logrotate systemd"
# bench/run (not make check): wrk through nginx, gnuplot for its plot,
# strace for the system calls per request, valgrind for
# bench/instructions.sh.
PACKAGES="$PACKAGES gnuplot-nox strace valgrind"

if [ "$(id -u)" = 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# No service starts on install (supervisord would, with the
	# machine's configuration): the tests start their own.  A policy-rc.d
	# that the image already has (Docker's) stays as it is.
	norc=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		norc=1
	fi
	apt-get install -y -q --no-install-recommends $PACKAGES
	[ -z "$norc" ] || rm -f /usr/sbin/policy-rc.d
	# The tests start their own web servers on their own ports; the
	# packages' services would only hold port 80 (and 2019) for nothing.
	for svc in apache2 caddy lighttpd; do
		if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
			systemctl disable --now "$svc" >/dev/null 2>&1 || true
		elif [ -x "/etc/init.d/$svc" ]; then
			"/etc/init.d/$svc" stop >/dev/null 2>&1 || true
		fi
	done
else
	echo "setup.sh: not root, not installing packages ($PACKAGES)" >&2
fi

autoreconf -fi
./configure "$@"
make -j"$(nproc)"
