# Shared helpers for the black-box tests (t/*.bats): start and stop fpmd,
# php-fpm (the reference) and nginx in front of either, and small assertions.
#
# Everything lives in the test's temporary directory ($BATS_TEST_TMPDIR in a
# test, $BATS_FILE_TMPDIR in setup_file/teardown_file); ports are asked from
# the kernel. Waits poll with a deadline, never a bare sleep.
#
# Every daemon is started in its own session (setsid), so its pid is also its
# process group: a stop can verify that nothing of that tree is left, and a
# forced stop kills the whole group, including children already orphaned.
#
# Start functions must not be called through `run` (they run in a subshell
# there and the pid would be lost). Call teardown_stack from teardown (or
# teardown_file): it stops whatever is still running and never leaks.

# Variables set here are for the tests; the stop functions take optional names.
# shellcheck disable=SC2034,SC2119,SC2120

FPMD_SRCDIR=${FPMD_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
FPMD_BUILDDIR=${FPMD_BUILDDIR:-$FPMD_SRCDIR}
export FPMD_SRCDIR FPMD_BUILDDIR

FPMD_BIN=${FPMD_BIN:-$FPMD_BUILDDIR/fpmd}
PHPFPM_BIN=${PHPFPM_BIN:-/usr/sbin/php-fpm8.2}
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
PHP_INI=${PHP_INI:-/etc/php/8.2/fpm/php.ini}
WWW_ROOT=${WWW_ROOT:-$FPMD_SRCDIR/t/data/www}
READY_LINE='NOTICE: ready to handle connections'
# Not a pyenv shim: those cost 100 ms a call.
if [[ -x /usr/bin/python3 ]]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi

# Deadlines in seconds; generous because CI machines are small and loaded.
START_TIMEOUT=${START_TIMEOUT:-10}
STOP_TIMEOUT=${STOP_TIMEOUT:-10}
CURL_TIMEOUT=${CURL_TIMEOUT:-30}

declare -gA _NGINX_PID _NGINX_DIR _PHPFPM_PID _PHPFPM_DIR _SPAWNED_BY

# The directory for this test's files: the test's own, or the file's one in
# setup_file/teardown_file.
t_tmp() {
	local d=${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:-}}
	if [[ -z $d ]]; then
		echo "t_tmp: not running under bats" >&2
		return 1
	fi
	printf '%s\n' "$d"
}

fail() {
	printf '%s\n' "$@" >&2
	return 1
}

# ---------------------------------------------------------------- polling ---

# now_ms: monotonic-enough wall clock in milliseconds (bash 5 EPOCHREALTIME).
now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	printf '%s\n' "${t:0:${#t}-3}"
}

# wait_until SECONDS CMD [ARGS...]: run CMD until it succeeds, at most SECONDS;
# polls quickly at first, then every 0.2 s.
wait_until() {
	local secs=$1 i=0 deadline
	local -a delays=(0.01 0.02 0.05 0.1 0.2)
	shift
	deadline=$(($(now_ms) + secs * 1000))
	while true; do
		"$@" && return 0
		(($(now_ms) < deadline)) || return 1
		sleep "${delays[i]}"
		((i < ${#delays[@]} - 1)) && i=$((i + 1))
	done
}

# ------------------------------------------------------------- processes ---

# proc_state PID: the one-letter state of PID, empty if there is no such pid.
proc_state() {
	local line
	read -r line 2>/dev/null <"/proc/$1/stat" || return 0
	line=${line##*) }
	printf '%s\n' "${line%% *}"
}

# proc_alive PID: true if PID exists and is not a zombie.
proc_alive() {
	local s
	s=$(proc_state "$1")
	[[ -n $s && $s != Z ]]
}

# proc_group_members PGID: live (non-zombie) processes whose process group
# or session is PGID, one "pid comm" a line. Orphans keep both ids, so this
# finds children that were reparented away from a dead master.
proc_group_members() {
	local f line pid rest
	local -a a
	for f in /proc/[0-9]*/stat; do
		read -r line 2>/dev/null <"$f" || continue
		pid=${line%% *}
		rest=${line##*) }
		read -r -a a <<<"$rest"
		# a[0]=state a[1]=ppid a[2]=pgrp a[3]=session
		[[ ${a[0]} == Z ]] && continue
		if [[ ${a[2]} == "$1" || ${a[3]} == "$1" ]]; then
			printf '%s %s\n' "$pid" "$(cat "/proc/$pid/comm" 2>/dev/null)"
		fi
	done
}

# proc_descendants PID: live descendants of PID (by parent chain), one pid a
# line.
proc_descendants() {
	local f line pid rest
	local -a a queue
	local -A kids=()
	for f in /proc/[0-9]*/stat; do
		read -r line 2>/dev/null <"$f" || continue
		pid=${line%% *}
		rest=${line##*) }
		read -r -a a <<<"$rest"
		[[ ${a[0]} == Z ]] && continue
		kids[${a[1]}]+=" $pid"
	done
	queue=("$1")
	while ((${#queue[@]})); do
		pid=${queue[0]}
		queue=("${queue[@]:1}")
		for f in ${kids[$pid]:-}; do
			printf '%s\n' "$f"
			queue+=("$f")
		done
	done
}

# _spawn LOG CMD...: start CMD in its own session, in the background, with
# stdout+stderr to LOG and fd 3 (bats' output) closed; sets SPAWNED_PID.
# setsid does not fork here (a background job of a non-interactive shell is
# not a group leader), so the pid is the daemon's own.
# Background jobs of a non-interactive shell start with SIGINT and SIGQUIT
# ignored; a supervisor would not do that, and a daemon reading its signals
# through signalfd would never see an ignored one: give them back their
# default disposition.
_spawn() {
	local log=$1
	shift
	local -a pre=()
	((_HAVE_SETSID)) && pre+=(setsid)
	# shellcheck disable=SC2054
	((_ENV_DEFAULT_SIGNAL)) && pre+=(env --default-signal=INT,QUIT)
	"${pre[@]}" "$@" </dev/null >"$log" 2>&1 3>&- &
	SPAWNED_PID=$!
	_SPAWNED_BY[$SPAWNED_PID]=$BASHPID
}
_HAVE_SETSID=0
command -v setsid >/dev/null && _HAVE_SETSID=1
_ENV_DEFAULT_SIGNAL=0
env --default-signal=QUIT true 2>/dev/null && _ENV_DEFAULT_SIGNAL=1

# _exited PID: true once PID is a zombie (our child, not yet waited) or gone.
_exited() {
	! proc_alive "$1"
}

# _no_group_left PGID: true when no live process is left in group/session.
# Without setsid the daemon shares our group: only the descendants checked
# in _stop_daemon can tell then.
_no_group_left() {
	((_HAVE_SETSID)) || return 0
	[[ -z $(proc_group_members "$1") ]]
}

# _stop_daemon NAME PID SIGNAL LOG: send SIGNAL, wait for exit, check the
# status is 0 and that nothing of the process tree is left. On timeout or
# leftovers, kill the whole group with SIGKILL and fail. Prints LOG on failure.
_stop_daemon() {
	local name=$1 pid=$2 sig=$3 log=$4 rc=0 desc
	desc=$(proc_descendants "$pid" | tr '\n' ' ')
	kill -s "$sig" "$pid" 2>/dev/null || true
	if ! wait_until "$STOP_TIMEOUT" _exited "$pid"; then
		echo "$name (pid $pid) did not exit within ${STOP_TIMEOUT}s of SIG$sig" >&2
		_dump_log "$name" "$log"
		_kill_group "$pid"
		return 1
	fi
	if [[ ${_SPAWNED_BY[$pid]:-} == "$BASHPID" ]]; then
		wait "$pid" 2>/dev/null || rc=$?
	else
		echo "# $name (pid $pid) was started by another shell: exit status unknown" >&2
	fi
	if ! wait_until 5 _no_group_left "$pid"; then
		echo "$name (pid $pid) exited but left processes behind:" >&2
		proc_group_members "$pid" >&2
		_dump_log "$name" "$log"
		_kill_group "$pid"
		return 1
	fi
	local p
	for p in $desc; do
		if proc_alive "$p"; then
			# A child that escaped the group (setsid/setpgid) but was
			# there before the stop.
			if ! wait_until 5 _exited "$p"; then
				echo "$name (pid $pid) left child $p behind:" >&2
				tr '\0' ' ' <"/proc/$p/cmdline" >&2 || true
				echo >&2
				kill -KILL "$p" 2>/dev/null || true
				_dump_log "$name" "$log"
				return 1
			fi
		fi
	done
	if ((rc != 0)); then
		echo "$name (pid $pid) exited with status $rc after SIG$sig, expected 0" >&2
		_dump_log "$name" "$log"
		return 1
	fi
	return 0
}

# _kill_group PID: SIGKILL the process group/session of PID and its
# descendants, reap PID if it is our child.
_kill_group() {
	local pid=$1 p
	for p in $(proc_descendants "$pid"); do
		kill -KILL "$p" 2>/dev/null || true
	done
	if ((_HAVE_SETSID)); then
		kill -KILL -- "-$pid" 2>/dev/null || true
	fi
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	wait_until 5 _no_group_left "$pid" || true
}

_dump_log() {
	local name=$1 log=$2
	[[ -n $log && -f $log ]] || return 0
	echo "---- $name log ($log), last 100 lines ----" >&2
	tail -n 100 "$log" >&2
	echo "---- end of $name log ----" >&2
}

# _wait_ready NAME PID LOG: wait until LOG has the ready line; fail (with the
# log) if the process dies first or the deadline passes.
# XXX: poll `fpmctl ping` once fpmctl exists; the ready line is the contract
# until then (php-fpm logs the same line).
_log_ready() {
	grep -qF -e "$READY_LINE" -e '"level":"NOTICE",' "$1" 2>/dev/null &&
		grep -qF -e "$READY_LINE" -e '"message":"ready to handle connections"' "$1" 2>/dev/null
}

_ready_or_dead() {
	_log_ready "$2" || _exited "$1"
}

_wait_ready() {
	local name=$1 pid=$2 log=$3 rc=0
	if ! wait_until "$START_TIMEOUT" _ready_or_dead "$pid" "$log"; then
		echo "$name (pid $pid) not ready within ${START_TIMEOUT}s" >&2
		_dump_log "$name" "$log"
		_kill_group "$pid"
		return 1
	fi
	if _exited "$pid"; then
		wait "$pid" 2>/dev/null || rc=$?
		echo "$name (pid $pid) exited with status $rc during start-up" >&2
		_dump_log "$name" "$log"
		_kill_group "$pid"
		return 1
	fi
	return 0
}

# unix_connect PATH: true if a unix stream socket at PATH accepts a connection.
unix_connect() {
	"$PYTHON" - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(2)
try:
    s.connect(sys.argv[1])
except OSError:
    sys.exit(1)
EOF
}

# ------------------------------------------------------------------- fpmd ---

# check_sock_path PATH: unix socket paths are limited to 107 bytes.
check_sock_path() {
	((${#1} < 108)) && return 0
	fail "socket path too long (${#1} bytes, max 107): $1" \
		"set TMPDIR to a shorter directory"
}

# fpmd_conf [EXTRA_POOL_LINES...]: write $(t_tmp)/fpmd.conf with one static
# pool "www" of 2 workers on $(t_tmp)/www.sock; extra lines go into the pool.
# Sets FPMD_CONF and FPMD_SOCK.
fpmd_conf() {
	local dir line
	dir=$(t_tmp) || return 1
	FPMD_CONF=$dir/fpmd.conf
	FPMD_SOCK=$dir/www.sock
	check_sock_path "$FPMD_SOCK" || return 1
	{
		echo 'log_level = notice'
		echo "php_ini = \"$PHP_INI\""
		echo 'pool www {'
		echo "    listen = \"$FPMD_SOCK\""
		echo '    listen.mode = 0666'
		echo '    pm = static'
		echo '    pm.max_children = 2'
		for line in "$@"; do
			echo "    $line"
		done
		echo '}'
	} >"$FPMD_CONF"
}

# fpmd_start [CONF] [ARGS...]: start fpmd in the foreground (in background of
# the test), output to $(t_tmp)/fpmd.log, wait for the ready line. Adds -R
# when running as root unless ARGS has -R already or --no-R (which is not
# passed on). Sets FPMD_PID and FPMD_LOG.
fpmd_start() {
	local dir conf allow_root=1 a
	local -a args=()
	dir=$(t_tmp) || return 1
	conf=${FPMD_CONF:-$dir/fpmd.conf}
	if (($#)) && [[ $1 != -* ]]; then
		conf=$1
		shift
	fi
	for a in "$@"; do
		case $a in
		--no-R) allow_root=0 ;;
		-R) allow_root=0; args+=("$a") ;;
		*) args+=("$a") ;;
		esac
	done
	((EUID == 0 && allow_root)) && args+=(-R)
	if [[ -n ${FPMD_PID:-} ]] && proc_alive "$FPMD_PID"; then
		fail "fpmd_start: fpmd already running (pid $FPMD_PID)"
		return 1
	fi
	[[ -x $FPMD_BIN ]] || { fail "fpmd_start: no executable $FPMD_BIN"; return 1; }
	[[ -f $conf ]] || { fail "fpmd_start: no config $conf"; return 1; }
	# Each test's fpmd gets its own control socket (the default one under
	# /run/fpmd is shared by every fpmd running as root).
	if ! grep -q '^[[:space:]]*control\.socket' "$conf"; then
		sed -i "1i control.socket = \"$dir/control.sock\"" "$conf"
	fi
	FPMD_CTL=$(sed -n 's/^[[:space:]]*control\.socket[[:space:]]*=[[:space:]]*"\(.*\)".*/\1/p' "$conf" | head -1)
	export FPMD_CTL
	FPMD_LOG=$dir/fpmd.log
	_spawn "$FPMD_LOG" "$FPMD_BIN" -c "$conf" "${args[@]}"
	FPMD_PID=$SPAWNED_PID
	if ! _wait_ready fpmd "$FPMD_PID" "$FPMD_LOG"; then
		FPMD_PID=
		return 1
	fi
}

# fpmd_stop: graceful stop (SIGQUIT); asserts exit status 0 within
# $STOP_TIMEOUT and that no process of this fpmd is left.
fpmd_stop() {
	local pid=${FPMD_PID:-}
	[[ -n $pid ]] || { fail "fpmd_stop: fpmd is not running"; return 1; }
	FPMD_PID=
	_stop_daemon fpmd "$pid" QUIT "${FPMD_LOG:-}"
}

# fpmd_kill [SIGNAL]: send SIGNAL (default TERM) and wait for the exit, without
# asserting its status; FPMD_STATUS holds it afterwards.
fpmd_kill() {
	local pid=${FPMD_PID:-} sig=${1:-TERM}
	[[ -n $pid ]] || { fail "fpmd_kill: fpmd is not running"; return 1; }
	kill -s "$sig" "$pid" 2>/dev/null || true
	if ! wait_until "$STOP_TIMEOUT" _exited "$pid"; then
		_dump_log fpmd "${FPMD_LOG:-}"
		_kill_group "$pid"
		FPMD_PID=
		fail "fpmd_kill: pid $pid did not exit within ${STOP_TIMEOUT}s of SIG$sig"
		return 1
	fi
	FPMD_STATUS=0
	wait "$pid" 2>/dev/null || FPMD_STATUS=$?
	FPMD_PID=
	wait_until 5 _no_group_left "$pid" || {
		proc_group_members "$pid" >&2
		_kill_group "$pid"
		fail "fpmd_kill: processes left behind by pid $pid"
		return 1
	}
}

# assert_log_contains TEXT [LOG]: fixed-string search in the fpmd log.
assert_log_contains() {
	local log=${2:-${FPMD_LOG:-$(t_tmp)/fpmd.log}}
	grep -qF -- "$1" "$log" && return 0
	echo "expected log $log to contain: $1" >&2
	_dump_log log "$log"
	return 1
}

# wait_log TEXT [SECONDS] [LOG]: wait until the fpmd log contains TEXT.
wait_log() {
	local log=${3:-${FPMD_LOG:-$(t_tmp)/fpmd.log}}
	wait_until "${2:-$START_TIMEOUT}" grep -qF -- "$1" "$log" && return 0
	echo "log $log did not show within ${2:-$START_TIMEOUT}s: $1" >&2
	_dump_log log "$log"
	return 1
}

# ---------------------------------------------------------------- php-fpm ---

# phpfpm_start [-n NAME] [POOL_LINES...]: start php-fpm8.2 -F -R with a
# generated php-fpm.conf in $(t_tmp)/NAME/ (default NAME php-fpm): error_log
# there, one static pool "www" of 2 workers on $(t_tmp)/NAME/www.sock, plus
# POOL_LINES (php-fpm syntax, e.g. 'php_value[memory_limit] = 64M'). Waits for
# the ready line and for the socket to accept. Sets PHPFPM_SOCK, PHPFPM_PID,
# PHPFPM_LOG.
phpfpm_start() {
	local name=php-fpm dir conf line
	if [[ ${1:-} == -n ]]; then
		name=$2
		shift 2
	fi
	dir=$(t_tmp)/$name || return 1
	mkdir -p "$dir"
	conf=$dir/php-fpm.conf
	PHPFPM_SOCK=$dir/www.sock
	check_sock_path "$PHPFPM_SOCK" || return 1
	PHPFPM_LOG=$dir/php-fpm.log
	{
		echo '[global]'
		echo "error_log = $PHPFPM_LOG"
		echo 'log_level = notice'
		echo 'daemonize = no'
		echo '[www]'
		echo "listen = $PHPFPM_SOCK"
		echo 'listen.mode = 0666'
		echo 'pm = static'
		echo 'pm.max_children = 2'
		echo 'catch_workers_output = yes'
		for line in "$@"; do
			echo "$line"
		done
	} >"$conf"
	_spawn "$dir/php-fpm.out" "$PHPFPM_BIN" -F -R -y "$conf" -p "$dir" -c "$PHP_INI"
	PHPFPM_PID=$SPAWNED_PID
	_PHPFPM_PID[$name]=$PHPFPM_PID
	_PHPFPM_DIR[$name]=$dir
	if ! _wait_ready "$name" "$PHPFPM_PID" "$PHPFPM_LOG" ||
		! wait_until "$START_TIMEOUT" unix_connect "$PHPFPM_SOCK"; then
		cat "$dir/php-fpm.out" >&2
		_kill_group "$PHPFPM_PID"
		unset "_PHPFPM_PID[$name]"
		return 1
	fi
}

# phpfpm_stop [NAME]: graceful stop of one php-fpm (default: all started).
phpfpm_stop() {
	local name ret=0
	local -a names
	if (($#)); then names=("$@"); else names=("${!_PHPFPM_PID[@]}"); fi
	for name in "${names[@]}"; do
		[[ -n ${_PHPFPM_PID[$name]:-} ]] || continue
		_stop_daemon "$name" "${_PHPFPM_PID[$name]}" QUIT \
			"${_PHPFPM_DIR[$name]}/php-fpm.log" || ret=1
		unset "_PHPFPM_PID[$name]"
	done
	return $ret
}

# ------------------------------------------------------------------ nginx ---

# free_port: a TCP port on 127.0.0.1 nobody listens on right now.
free_port() {
	"$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' 2>/dev/null && return 0
	# No python: try random high ports until one refuses connections.
	local p
	while true; do
		p=$((20000 + RANDOM % 40000))
		(exec 9<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
	done
}

# _nginx_conf DIR PORT SOCKET KEEPALIVE TOKEN: the one nginx.conf template.
_nginx_conf() {
	local dir=$1 port=$2 sock=$3 ka=$4 token=$5 pass user='' upstream='' keep=''
	if ((ka)); then
		pass=php_backend
		upstream="    upstream php_backend {
        server unix:$sock;
        keepalive 8;
    }"
		keep='fastcgi_keep_conn on;'
	else
		pass=unix:$sock
	fi
	# As root, workers would run as nobody and could not use the private
	# tmpdir (temp files, logs).
	((EUID == 0)) && user='user root;'
	cat <<EOF
worker_processes 1;
daemon off;
master_process on;
$user
pid $dir/nginx.pid;
error_log $dir/error.log notice;

events {
    worker_connections 256;
}

http {
    access_log $dir/access.log;
    client_body_temp_path $dir/client_body;
    fastcgi_temp_path $dir/fastcgi_temp;
    proxy_temp_path $dir/proxy_temp;
    uwsgi_temp_path $dir/uwsgi_temp;
    scgi_temp_path $dir/scgi_temp;
    types { text/html html; text/plain txt; }
    default_type application/octet-stream;
    client_max_body_size 64m;
    fastcgi_read_timeout 60s;
    # Room for big response headers (nginx needs the whole header block in
    # one buffer of fastcgi_buffer_size, 4k by default, and answers 502
    # itself past it) and big request headers (400 past 8k by default):
    # otherwise both servers under test get nginx's own error page, and a
    # comparison of the two compares nothing.
    fastcgi_buffer_size 64k;
    fastcgi_buffers 16 64k;
    large_client_header_buffers 8 64k;
$upstream

    server {
        listen 127.0.0.1:$port;
        server_name localhost;
        root $WWW_ROOT;
        index index.php index.html;

        location = /__nginx_ready {
            return 200 "$token";
        }

        # Debian's snippets/fastcgi-php.conf, without the try_files (so that
        # PHP itself answers "File not found." for a missing script).
        location ~ [^/]\\.php(/|\$) {
            fastcgi_split_path_info ^(.+?\\.php)(/.*)\$;
            set \$path_info \$fastcgi_path_info;
            fastcgi_param PATH_INFO \$path_info;
            fastcgi_index index.php;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
            fastcgi_pass $pass;
            $keep
        }

        # The status page and ping, as people configure them (answered by
        # the pool when pm.status_path / ping.path are set; t/status.bats).
        location ~ ^/(status|ping)\$ {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
            fastcgi_pass $pass;
            $keep
        }

        # A non-.php file handed to PHP: security.limit_extensions must
        # refuse it ("Access denied.").
        location ~ \\.txt\$ {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
            fastcgi_pass $pass;
            $keep
        }
    }
}
EOF
}

_nginx_answers() {
	local body
	proc_alive "$1" || return 0   # dead: stop waiting, the caller checks
	body=$(curl -sS --max-time 2 "http://127.0.0.1:$2/__nginx_ready" 2>/dev/null) || return 1
	[[ $body == "$3" ]]
}

# nginx_start [--keepalive] [-n NAME] [SOCKET]: start nginx (default NAME
# nginx, files in $(t_tmp)/NAME/) on a free 127.0.0.1 port, document root
# t/data/www, .php (and .txt), /status and /ping passed to SOCKET (default
# $(t_tmp)/www.sock).
# --keepalive: through an upstream with keepalive 8 and fastcgi_keep_conn on.
# Exports NGINX_PORT and BASE_URL; waits until nginx itself answers.
nginx_start() {
	local ka=0 name=nginx sock dir port token pid
	while (($#)); do
		case $1 in
		--keepalive) ka=1; shift ;;
		-n) name=$2; shift 2 ;;
		*) break ;;
		esac
	done
	dir=$(t_tmp)/$name || return 1
	sock=${1:-$(t_tmp)/www.sock}
	mkdir -p "$dir"
	token="nginx-$name-$RANDOM$RANDOM"
	for _ in 1 2 3 4 5; do
		port=$(free_port)
		_nginx_conf "$dir" "$port" "$sock" "$ka" "$token" >"$dir/nginx.conf"
		: >"$dir/error.log"
		_spawn "$dir/nginx.out" "$NGINX_BIN" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
		pid=$SPAWNED_PID
		if wait_until "$START_TIMEOUT" _nginx_answers "$pid" "$port" "$token" &&
			proc_alive "$pid"; then
			_NGINX_PID[$name]=$pid
			_NGINX_DIR[$name]=$dir
			NGINX_PORT=$port
			BASE_URL=http://127.0.0.1:$port
			export NGINX_PORT BASE_URL
			return 0
		fi
		_kill_group "$pid"
		# Someone took the port between free_port and bind: try another.
		grep -q 'Address already in use' "$dir/error.log" "$dir/nginx.out" 2>/dev/null && continue
		break
	done
	echo "nginx_start: nginx ($name) did not come up" >&2
	_dump_log nginx "$dir/nginx.out"
	_dump_log nginx "$dir/error.log"
	return 1
}

# nginx_stop [NAME...]: graceful stop (SIGQUIT) of nginx instances (default:
# all started); SIGKILL to the group if one hangs.
nginx_stop() {
	local name ret=0
	local -a names
	if (($#)); then names=("$@"); else names=("${!_NGINX_PID[@]}"); fi
	for name in "${names[@]}"; do
		[[ -n ${_NGINX_PID[$name]:-} ]] || continue
		_stop_daemon "$name" "${_NGINX_PID[$name]}" QUIT \
			"${_NGINX_DIR[$name]}/error.log" || ret=1
		unset "_NGINX_PID[$name]"
	done
	return $ret
}

# teardown_stack: stop nginx, php-fpm and fpmd, whatever is still running.
# Everything is stopped even if one stop fails; fails if any did.
teardown_stack() {
	local ret=0 n
	# background requests and helpers a test left running (bg_get, BG[])
	for n in "${!BG[@]}"; do
		kill "${BG[$n]}" 2>/dev/null || true
		wait "${BG[$n]}" 2>/dev/null || true
	done
	nginx_stop || ret=1
	phpfpm_stop || ret=1
	if [[ -n ${FPMD_PID:-} ]]; then
		fpmd_stop || ret=1
	fi
	return $ret
}

# ------------------------------------------------------------------- HTTP ---

# http [CURL_ARGS...] URL: one request; sets HTTP_STATUS, HTTP_BODY (trailing
# newlines dropped, as by $(...)) and HTTP_HEADERS (header block, CRs
# removed); the exact body is in HTTP_BODY_FILE.
http() {
	local dir rc=0
	dir=$(t_tmp) || return 1
	HTTP_BODY_FILE=$dir/http.body
	HTTP_STATUS=$(curl -sS --max-time "$CURL_TIMEOUT" -H 'Expect:' \
		-o "$HTTP_BODY_FILE" -D "$dir/http.headers" -w '%{http_code}' "$@") || rc=$?
	HTTP_HEADERS=$(tr -d '\r' <"$dir/http.headers" 2>/dev/null) || HTTP_HEADERS=
	HTTP_BODY=$(cat "$HTTP_BODY_FILE" 2>/dev/null) || HTTP_BODY=
	if ((rc)); then
		echo "curl $* failed with exit status $rc" >&2
		return 1
	fi
}

assert_eq() {
	[[ $2 == "$1" ]] && return 0
	printf 'expected: %s\n     got: %s\n' "$1" "$2" >&2
	[[ -n ${3:-} ]] && echo "($3)" >&2
	return 1
}

assert_contains() {
	[[ $1 == *"$2"* ]] && return 0
	printf 'expected to contain: %s\n                got: %s\n' "$2" "$1" >&2
	return 1
}

assert_not_contains() {
	[[ $1 != *"$2"* ]] && return 0
	printf 'expected not to contain: %s\n                    got: %s\n' "$2" "$1" >&2
	return 1
}

assert_match() {
	[[ $1 =~ $2 ]] && return 0
	printf 'expected to match: %s\n              got: %s\n' "$2" "$1" >&2
	return 1
}

# assert_status URL CODE [CURL_ARGS...]
assert_status() {
	local url=$1 code=$2
	shift 2
	http "$@" "$url" || return 1
	assert_eq "$code" "$HTTP_STATUS" "HTTP status of $url" || {
		printf '%s\n\n%s\n' "$HTTP_HEADERS" "${HTTP_BODY:0:2000}" >&2
		return 1
	}
}

# assert_body_contains URL TEXT [CURL_ARGS...]
assert_body_contains() {
	local url=$1 text=$2
	shift 2
	http "$@" "$url" || return 1
	assert_contains "$HTTP_BODY" "$text" || { echo "(body of $url)" >&2; return 1; }
}

# assert_body_equals URL TEXT [CURL_ARGS...]
assert_body_equals() {
	local url=$1 text=$2
	shift 2
	http "$@" "$url" || return 1
	assert_eq "$text" "$HTTP_BODY" "body of $url"
}

# assert_header URL 'Name: value' [CURL_ARGS...]: the response has that exact
# header line (name compared case-insensitively).
assert_header() {
	local url=$1 want=$2 line
	shift 2
	http "$@" "$url" || return 1
	while IFS= read -r line; do
		if [[ ${line,,} == "${want,,}" && ${line#*:} == "${want#*:}" ]]; then
			return 0
		fi
	done <<<"$HTTP_HEADERS"
	printf 'expected header: %s\n    got headers:\n%s\n' "$want" "$HTTP_HEADERS" >&2
	return 1
}

# php_ext_available EXT: true if the PHP that fpmd embeds loads the
# extension EXT with this run's php.ini and conf.d: built in (as the CLI of
# the same build lists it with no ini at all), or named by an ini file of
# PHP_INI_SCAN_DIR (when set, even empty) or else of the conf.d beside
# $PHP_INI, which is where fpmd looks.
php_ext_available() {
	local ext=$1 scan d
	local -a dirs
	if command -v php >/dev/null && php -n -m 2>/dev/null | grep -qix "$ext"; then
		return 0
	fi
	if [[ -v PHP_INI_SCAN_DIR ]]; then
		scan=$PHP_INI_SCAN_DIR
	else
		scan=$(dirname "$PHP_INI")/conf.d
	fi
	IFS=: read -r -a dirs <<<"$scan"
	for d in "${dirs[@]}"; do
		[[ -n $d ]] || continue
		grep -qsiE "^[[:space:]]*(zend_)?extension[[:space:]]*=[[:space:]]*\"?([^\"]*/)?$ext(\.so)?\"?[[:space:]]*(;.*)?\$" \
			"$d"/*.ini && return 0
	done
	grep -qsiE "^[[:space:]]*(zend_)?extension[[:space:]]*=[[:space:]]*\"?([^\"]*/)?$ext(\.so)?\"?[[:space:]]*(;.*)?\$" \
		"$PHP_INI"
}

# require_php_ext EXT...: skip the test, saying why, unless PHP loads every
# EXT here (a run with PHP_INI_SCAN_DIR emptied loads no shared extension).
require_php_ext() {
	local ext
	for ext in "$@"; do
		php_ext_available "$ext" ||
			skip "needs the PHP extension $ext, which this run's php.ini and conf.d (PHP_INI_SCAN_DIR=${PHP_INI_SCAN_DIR-unset}) do not load"
	done
}

# known_difference WHAT: in a php-fpm comparison (compat*.bats), skip a case
# that fpmd is known to answer otherwise than php-fpm, until the fix is
# merged (then remove the call). With COMPAT_SELFTEST (php-fpm on both
# sides) or COMPAT_RUN_KNOWN=1 the case runs: the first proves the case,
# the second shows whether the difference is still there.
known_difference() {
	[[ -n ${COMPAT_SELFTEST:-} || -n ${COMPAT_RUN_KNOWN:-} ]] && return 0
	skip "known difference: $1"
}

# ---------------------------------------------------------------------------
# Shared by several test files.

FPMCTL=$FPMD_BUILDDIR/fpmctl

# ctl ARGS...: fpmctl on this test's fpmd.
ctl() {
	"$FPMCTL" -s "$FPMD_CTL" "$@"
}

# json EXPR: evaluate the python expression EXPR over the JSON on stdin
# (bound to d); strings print bare, anything else as JSON.
json() {
	"$PYTHON" -c 'import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1])
print(v if isinstance(v, str) else json.dumps(v))' "$1"
}

# count_is N CMD...: CMD prints exactly N (for wait_until).
count_is() {
	[[ $("${@:2}") == "$1" ]]
}

# open_path DIR: let every user reach DIR: o+x on it and on its ancestors
# that lack it (bats makes its temporary directories 0700).
open_path() {
	local d
	d=$(realpath "$1")
	while [[ -n $d && $d != / ]]; do
		[[ $(stat -c %A "$d") == *x ]] || chmod o+x "$d"
		d=$(dirname "$d")
	done
	chmod o+rx "$1"
}

# proc_args PID: the process title (command line) of PID.
proc_args() {
	ps -o args= -p "$1" 2>/dev/null
}

# worker_pids [PID]: the workers (not prototypes) under fpmd PID
# (default $FPMD_PID), sorted.
worker_pids() {
	local p a
	for p in $(proc_descendants "${1:-$FPMD_PID}"); do
		a=$(proc_args "$p")
		[[ $a == "fpmd: pool "* && $a != *prototype* ]] && echo "$p"
	done | sort -n
	return 0
}

# worker_procs: worker_pids of this test's fpmd.
worker_procs() {
	worker_pids "$FPMD_PID"
}

# Requests in the background: bg_get NAME URL [CURL_ARGS...] starts one,
# bg_wait NAME waits for it and sets BG_CODE to its HTTP status; the body is
# in $(t_tmp)/NAME.body.
declare -gA BG=()
bg_get() {
	local name=$1 url=$2 d
	shift 2
	d=$(t_tmp)
	curl -sS --max-time 60 -H 'Expect:' -o "$d/$name.body" -w '%{http_code}' \
		"$@" "$url" >"$d/$name.code" 2>"$d/$name.err" 3>&- &
	BG[$name]=$!
}

bg_wait() {
	local d
	d=$(t_tmp)
	wait "${BG[$1]}" || true
	unset "BG[$1]"
	BG_CODE=$(cat "$d/$1.code")
}

# bg_slow NAME SECS [BASE [CURL_ARGS...]]: bg_get of ctl/sleep.php for SECS
# seconds; returns once the script runs.
bg_slow() {
	local name=$1 secs=$2 base=${3:-$BASE_URL} d
	shift 2
	(($#)) && shift
	d=$(t_tmp)
	bg_get "$name" "$base/ctl/sleep.php?s=$secs&mark=$d/$name.mark" "$@"
	wait_until 15 test -s "$d/$name.mark" ||
		fail "bg_slow $name: the script did not start within 15 s"
}

# assert_full_body NAME: the background request NAME to ctl/sleep.php
# answered 200 with its whole body.
assert_full_body() {
	local d size
	d=$(t_tmp)
	bg_wait "$1"
	assert_eq 200 "$BG_CODE" "status of request $1 ($(cat "$d/$1.err"))" || return 1
	size=$(stat -c %s "$d/$1.body")
	assert_eq 100011 "$size" "body size of request $1" || return 1
	assert_eq end "$(tail -n 1 "$d/$1.body")" "last line of request $1"
}
