#!/bin/bash
# User-space instructions per request in one worker, fpmd against php-fpm
# 8.2, counted by valgrind (callgrind), which needs no hardware counters
# (virtual machines often have none: perf stat says "not supported").
#
# Each server runs under callgrind with one static worker and
# pm.max_requests = N: the worker serves exactly N requests (fcgi-bench, one
# connection) and exits, and callgrind writes its count.  Two runs, with
# N1 and N2 requests, and the difference over N2 - N1 leaves out what the
# worker does once (its start, its exit).  Kernel time is not in these
# figures: bench/run counts the system calls.
#
# usage: bench/instructions.sh [SCRIPT.php] [-k]   (default: hello world,
#        a new connection per request; -k: keep-alive)
#   SERVERS="fpmd" bench/instructions.sh   to count fpmd alone
# Prints Ir per request for each server, and keeps the callgrind files of
# the N2 runs in $OUT (default /tmp/fpmd-instructions) for
# callgrind_annotate.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd -P)
script= keep=
for a in "$@"; do
	case $a in
	-k) keep=-k ;;
	*) script=$(realpath "$a") ;;
	esac
done
N1=${N1:-200} N2=${N2:-1200}
OUT=${OUT:-/tmp/fpmd-instructions}
SERVERS=${SERVERS:-"fpmd php-fpm"}
command -v valgrind >/dev/null || { echo "instructions.sh: needs valgrind" >&2; exit 2; }
work=$(mktemp -d /tmp/fpmd-cg.XXXXXX)
chmod 755 "$work"
mkdir -p "$OUT"
pid=
trap 'cleanup' EXIT
cleanup() {
	[[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
if [[ -z $script ]]; then
	script=$work/hello.php
	echo '<?php echo "Hello, world!\n";' > "$script"
	chmod 644 "$script"
	# older than opcache.file_update_protection (2 s): cached from the
	# first request, so that both runs count the same work
	touch -d '-1 min' "$script"
fi

# count SERVER N: Ir of the worker that served N requests.
count() {
	local s=$1 n=$2 sock=$work/$1.sock i f
	rm -f "$work"/cg.* "$sock"
	if [[ $s == fpmd ]]; then
		cat > "$work/fpmd.conf" <<CONF
php_ini = "/etc/php/8.2/fpm/php.ini"
control.socket = "$work/control.sock"
pool www {
    listen = "$sock"
    listen.mode = 0666
    pm = static
    pm.max_children = 1
    pm.max_requests = $n
}
CONF
		valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" \
		    "$top/fpmd" -R -c "$work/fpmd.conf" > "$work/log" 2>&1 &
	else
		cat > "$work/php-fpm.conf" <<CONF
[global]
error_log = $work/php-fpm.log
daemonize = no
[www]
listen = $sock
listen.mode = 0666
pm = static
pm.max_children = 1
pm.max_requests = $n
CONF
		valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" \
		    php-fpm8.2 -F -R -y "$work/php-fpm.conf" -p "$work" \
		    -c /etc/php/8.2/fpm/php.ini > "$work/log" 2>&1 &
	fi
	pid=$!
	for ((i = 0; i < 600; i++)); do
		[[ -S $sock ]] && "$top/bench/fcgi-bench" -n 1 -c 1 -T 60 \
		    -f "$script" "$sock" >/dev/null 2>&1 && break
		sleep 0.1
	done
	((i < 600)) || { echo "instructions.sh: $s did not answer" >&2; cat "$work/log" >&2; exit 1; }
	# one request served already; the rest of N, and the worker exits
	"$top/bench/fcgi-bench" -n $((n - 1)) -c 1 -T 60 $keep -f "$script" \
	    "$sock" >/dev/null
	# the worker's file: the one whose process served the requests, the
	# first to be written while the server still runs
	for ((i = 0; i < 600; i++)); do
		f=$(grep -l "^totals:" "$work"/cg.* 2>/dev/null | head -1) && [[ -n $f ]] && break
		sleep 0.1
	done
	kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=
	cp "$f" "$OUT/$s.$n.callgrind"
	awk '/^totals:/ { print $2 }' "$f"
}

for s in $SERVERS; do
	a=$(count "$s" "$N1")
	b=$(count "$s" "$N2")
	printf '%-8s %8d instructions per request (user space, one worker; %s)\n' \
	    "$s" $(((b - a) / (N2 - N1))) "$OUT/$s.$N2.callgrind"
done
