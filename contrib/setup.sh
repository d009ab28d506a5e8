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

if [ "$(id -u)" = 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends $PACKAGES
else
	echo "setup.sh: not root, not installing packages ($PACKAGES)" >&2
fi

autoreconf -fi
./configure "$@"
make -j"$(nproc)"
