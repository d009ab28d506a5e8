#!/usr/bin/env bats
# fpmctl import-php-fpm: php-fpm configurations converted to fpmd.conf.
# Debian's own php-fpm.conf and pool.d/www.conf (from php8.2-fpm, copied),
# and t/data/import/rich (several pools, includes, env, php values, status
# paths, ${NAME}): each conversion passes fpmd -t and serves behind nginx,
# and for the rich one php-fpm 8.2 runs the original beside it and a PHP
# page must see the same settings and environment under both.  Then what is
# left out and why, and the files php-fpm itself would refuse.

# shellcheck disable=SC2030,SC2031,SC2119,SC2120,SC2153,SC2154

load helper
bats_require_minimum_version 1.5.0

RICH=$FPMD_SRCDIR/t/data/import/rich

teardown() {
	teardown_stack
}

# import ARGS...: fpmctl import-php-fpm, through run.
import() {
	run "$FPMCTL" import-php-fpm "$@"
}

# debian_copy DIR: Debian's files in DIR, their machine paths (the include,
# the socket, the log) turned into DIR's own.
debian_copy() {
	local d=$1
	mkdir -p "$d/pool.d"
	cp /etc/php/8.2/fpm/php-fpm.conf "$d/"
	cp /etc/php/8.2/fpm/pool.d/www.conf "$d/pool.d/"
	sed -i -e "s|^include=/etc/php/8.2/fpm/pool.d|include=$d/pool.d|" \
		-e "s|^error_log = .*|error_log = $d/error.log|" "$d/php-fpm.conf"
	sed -i "s|^listen = .*|listen = $d/www.sock|" "$d/pool.d/www.conf"
	grep -q "^include=$d/pool.d/\*.conf" "$d/php-fpm.conf"
	grep -q "^listen = $d/www.sock" "$d/pool.d/www.conf"
}

@test "Debian's php-fpm.conf and www.conf: converted, fpmd -t passes" {
	local d
	d=$(t_tmp)/deb
	debian_copy "$d"
	import --php-ini "$PHP_INI" -o "$d/fpmd.conf" "$d/php-fpm.conf"
	echo "$output"
	[ "$status" -eq 0 ]
	# what is left out is said, with its place
	assert_contains "$output" "$d/php-fpm.conf:19: pid: fpmd writes no pid file"
	run cat "$d/fpmd.conf"
	echo "$output"
	assert_contains "$output" "php_ini = \"$PHP_INI\""
	assert_contains "$output" "#pid = /run/php/php8.2-fpm.pid"
	assert_contains "$output" "error_log = \"$d/error.log\""
	assert_contains "$output" "pool www {"
	assert_contains "$output" "    user = www-data"
	assert_contains "$output" "    listen = \"$d/www.sock\""
	assert_contains "$output" "    listen.owner = www-data"
	assert_contains "$output" "    pm = dynamic"
	assert_contains "$output" "    pm.max_spare_servers = 3"
	run "$FPMD_BIN" -t -R -c "$d/fpmd.conf"
	echo "$output"
	[ "$status" -eq 0 ]
	assert_contains "$output" "test is successful"
}

@test "Debian's php-fpm.conf converted: fpmd serves it behind nginx" {
	local d
	d=$(t_tmp)/deb
	debian_copy "$d"
	import --php-ini "$PHP_INI" -o "$d/fpmd.conf" "$d/php-fpm.conf"
	[ "$status" -eq 0 ]
	no_log_file "$d/fpmd.conf"
	# PHP runs as www-data, when fpmd is root: it must reach the scripts
	((EUID != 0)) || open_path "$WWW_ROOT"
	fpmd_start "$d/fpmd.conf"
	nginx_start "$d/www.sock"
	assert_status "$BASE_URL/hello.php" 200
	assert_eq "Hello, world!" "$HTTP_BODY"
	if ((EUID == 0)); then
		assert_status "$BASE_URL/feat/whoami.php" 200
		assert_contains "$HTTP_BODY" "www-data"
	fi
	# dynamic, 1 to 3 spare, 2 at start: as the pool said
	run ctl --json status
	[ "$status" -eq 0 ]
	assert_eq dynamic "$(json 'd["pools"][0]["process_manager"]' <<<"$output")"
	assert_eq 5 "$(json 'd["pools"][0]["max_children"]' <<<"$output")"
}

# no_log_file CONF: fpmd's log on stderr at notice, where fpmd_start waits
# for the ready line (the files log elsewhere, or only warnings).
no_log_file() {
	sed -i -e '/^error_log = /d' -e '/^log_level = /d' "$1"
	! grep -q -e '^error_log' -e '^log_level' "$1"
}

# rich_env NAME: the environment the rich sample reads, for server NAME.
rich_env() {
	FPMD_TEST_DIR=$(t_tmp)/$1
	FPMD_API_PORT=$(free_port)
	mkdir -p "$FPMD_TEST_DIR"
	check_sock_path "$FPMD_TEST_DIR/www.sock"
	export FPMD_TEST_DIR FPMD_API_PORT
}

@test "the rich sample: php-fpm accepts it, and fpmd its conversion" {
	rich_env new
	run "$PHPFPM_BIN" -t -R -p "$RICH" -y "$RICH/php-fpm.conf"
	echo "$output"
	[ "$status" -eq 0 ]
	import -p "$RICH" -o "$FPMD_TEST_DIR/fpmd.conf" "$RICH/php-fpm.conf"
	echo "$output"
	[ "$status" -eq 0 ]
	run cat "$FPMD_TEST_DIR/fpmd.conf"
	echo "$output"
	# pools in the order php-fpm met them; [www] named again goes on
	assert_eq "pool www { pool api {" "$(grep '^pool' <<<"$output" | tr '\n' ' ' | sed 's/ $//')"
	assert_contains "$output" '    listen = "${FPMD_TEST_DIR}/www.sock"'
	assert_contains "$output" '    listen = "127.0.0.1:${FPMD_API_PORT}"'
	assert_contains "$output" 'log_level = warning'
	assert_contains "$output" '    access.suppress_path = "/ping /status"'
	assert_contains "$output" '    access.format = "%R - %u %t \"%m %r%Q%q\" %s"'
	assert_contains "$output" '        GREETING = "hello from $pool"'
	assert_contains "$output" '        error_reporting = "E_ALL & ~E_DEPRECATED"'
	assert_contains "$output" '        max_execution_time = 45'
	assert_contains "$output" '        date.timezone = "Europe/Paris"'
	run "$FPMD_BIN" -t -R -c "$FPMD_TEST_DIR/fpmd.conf"
	echo "$output"
	[ "$status" -eq 0 ]
}

# page URL: the body of URL, or fail.
page() {
	assert_status "$1" 200 && printf '%s\n' "$HTTP_BODY"
}

@test "the rich sample: a script sees the same under php-fpm and under fpmd" {
	local ref new refapi newapi
	# php-fpm 8.2 on the sample as it is
	rich_env ref
	refapi=$FPMD_API_PORT
	_spawn "$FPMD_TEST_DIR/php-fpm.out" "$PHPFPM_BIN" -F -R -p "$RICH" \
		-y "$RICH/php-fpm.conf" -c "$PHP_INI"
	_PHPFPM_PID[ref]=$SPAWNED_PID
	_PHPFPM_DIR[ref]=$FPMD_TEST_DIR
	wait_until "$START_TIMEOUT" unix_connect "$FPMD_TEST_DIR/www.sock"
	nginx_start -n nginx-ref "$FPMD_TEST_DIR/www.sock"
	ref=$BASE_URL
	# fpmd on the conversion, with an environment of its own
	rich_env new
	newapi=$FPMD_API_PORT
	"$FPMCTL" import-php-fpm -p "$RICH" --php-ini "$PHP_INI" \
		-o "$FPMD_TEST_DIR/fpmd.conf" "$RICH/php-fpm.conf"
	no_log_file "$FPMD_TEST_DIR/fpmd.conf"
	fpmd_start "$FPMD_TEST_DIR/fpmd.conf"
	nginx_start -n nginx-new "$FPMD_TEST_DIR/www.sock"
	new=$BASE_URL

	page "$ref/import.php" >"$(t_tmp)/ref.txt"
	page "$new/import.php" >"$(t_tmp)/new.txt"
	cat "$(t_tmp)/new.txt"
	# FROM_MASTER is each server's own directory
	sed -i "s|$(t_tmp)/ref|DIR|" "$(t_tmp)/ref.txt"
	sed -i "s|$(t_tmp)/new|DIR|" "$(t_tmp)/new.txt"
	diff -u "$(t_tmp)/ref.txt" "$(t_tmp)/new.txt"
	assert_contains "$(cat "$(t_tmp)/new.txt")" "GREETING='hello from www'"
	assert_contains "$(cat "$(t_tmp)/new.txt")" "memory_limit='64M'"
	assert_contains "$(cat "$(t_tmp)/new.txt")" "ini_set(error_reporting)=false"

	assert_eq "$(page "$ref/ping")" "$(page "$new/ping")"
	assert_eq "pong from www" "$(page "$new/ping")"
	assert_status "$new/status" 200
	assert_contains "$HTTP_BODY" "pool:                 www"
	assert_contains "$HTTP_BODY" "process manager:      dynamic"

	# the [api] pool, on TCP with its own memory_limit, under both
	local script=$WWW_ROOT/import.php
	run env -i SCRIPT_FILENAME="$script" SCRIPT_NAME=/import.php \
		REQUEST_METHOD=GET cgi-fcgi -bind -connect "127.0.0.1:$newapi"
	[ "$status" -eq 0 ]
	assert_contains "$output" "memory_limit='32M'"
	local newout=$output
	run env -i SCRIPT_FILENAME="$script" SCRIPT_NAME=/import.php \
		REQUEST_METHOD=GET cgi-fcgi -bind -connect "127.0.0.1:$refapi"
	[ "$status" -eq 0 ]
	assert_eq "$(grep -v FROM_MASTER <<<"$output" | tr -d '\r')" \
		"$(grep -v FROM_MASTER <<<"$newout" | tr -d '\r')"
}

@test "what fpmd has no use for is a comment saying why, and a warning" {
	local d
	d=$(t_tmp)
	cat >"$d/php-fpm.conf" <<-'EOF'
	[global]
	daemonize = yes
	systemd_interval = 10
	bogus = 1
	[www]
	listen = 9000
	pm = static
	pm.max_children = 2
	process.priority = -5
	apparmor_hat = x
	prefix = /srv/www
	chdir = htdocs
	access.log = log/$pool.access.log
	log_level = debug
	php_value[] = 1
	env[EMPTY] =
	EOF
	import "$d/php-fpm.conf"
	echo "$output"
	[ "$status" -eq 0 ]
	assert_contains "$output" "$d/php-fpm.conf:2: daemonize: fpmd always runs in the foreground"
	assert_contains "$output" "$d/php-fpm.conf:3: systemd_interval:"
	assert_contains "$output" "$d/php-fpm.conf:4: bogus: unknown to php-fpm 8.2"
	# directives fpmd has are copied, not commented out
	assert_contains "$output" "    process.priority = -5"
	assert_contains "$output" "    apparmor_hat = x"
	assert_contains "$output" "$d/php-fpm.conf:14: log_level: a [global] directive in a pool"
	assert_contains "$output" "$d/php-fpm.conf:15: php_value: an empty [NAME]"
	assert_contains "$output" "$d/php-fpm.conf:16: env: an empty value"
	assert_contains "$output" "#daemonize = yes"
	# the pool's prefix is applied to its relative paths
	assert_contains "$output" '    chdir = "/srv/www/htdocs"'
	assert_contains "$output" '    access.log = "/srv/www/log/$pool.access.log"'
	assert_contains "$output" "    listen = 9000"
}

@test "a relative path without a prefix is said to stay relative" {
	local d
	d=$(t_tmp)
	printf '[www]\nlisten = www.sock\npm = static\npm.max_children = 1\n' >"$d/a.conf"
	import "$d/a.conf"
	echo "$output"
	[ "$status" -eq 0 ]
	assert_contains "$output" "$d/a.conf:2: listen: the relative path 'www.sock' is taken from this file's directory, not php-fpm's prefix (give -p PREFIX)"
	import -p /srv "$d/a.conf"
	assert_contains "$output" '    listen = "/srv/www.sock"'
}

@test "a file php-fpm would refuse: every problem at its line, nothing written" {
	local d
	d=$(t_tmp)
	cat >"$d/bad.conf" <<-'EOF'
	[www]
	listen = "/tmp/x.sock
	# a shell comment
	pm static
	[ ]
	pm.max_children = 2
	EOF
	import -o "$d/out.conf" "$d/bad.conf"
	echo "$output"
	[ "$status" -eq 1 ]
	assert_contains "$output" "$d/bad.conf:2: the \" is not closed on this line (php-fpm reads each line on its own)"
	assert_contains "$output" "$d/bad.conf:3: '#' does not start a comment in php-fpm's files"
	assert_contains "$output" "$d/bad.conf:4: no '=' after the name"
	assert_contains "$output" "$d/bad.conf:5: an empty section name"
	assert_contains "$output" "nothing written"
	[ ! -e "$d/out.conf" ]
	[ ! -e "$d/out.conf.new" ]
	# no pool at all
	printf '[global]\nlog_level = debug\n' >"$d/nopool.conf"
	import "$d/nopool.conf"
	[ "$status" -eq 1 ]
	assert_contains "$output" "$d/nopool.conf: no pool: php-fpm needs one [NAME] section at least"
}

@test "includes: a missing file, a loop, too deep, a pattern matching nothing" {
	local d i
	d=$(t_tmp)
	# php-fpm takes every include for a pattern: one naming nothing is a
	# warning, a file it cannot read an error
	printf 'include = %s/nothere.conf\n[www]\n' "$d" >"$d/missing.conf"
	import "$d/missing.conf"
	echo "$output"
	[ "$status" -eq 0 ]
	assert_contains "$output" "$d/missing.conf:1: include '$d/nothere.conf' matches no file"
	if ((EUID != 0)); then
		printf '[www]\n' >"$d/secret.conf"
		chmod 000 "$d/secret.conf"
		printf 'include = secret.conf\n' >"$d/inc.conf"
		import "$d/inc.conf"
		[ "$status" -eq 2 ]
		assert_contains "$output" "$d/inc.conf:1: include '$d/secret.conf': Permission denied"
	fi
	import "$d/none.conf"
	[ "$status" -eq 2 ]
	assert_contains "$output" "$d/none.conf: cannot read: No such file or directory"

	printf '[www]\ninclude = loop.conf\n' >"$d/loop.conf"
	import "$d/loop.conf"
	echo "$output"
	[ "$status" -eq 1 ]
	assert_contains "$output" "$d/loop.conf:2: include '$d/loop.conf': an include loop"

	for i in 0 1 2 3 4 5 6; do
		printf 'include = d%d.conf\n' $((i + 1)) >"$d/d$i.conf"
	done
	printf '[www]\n' >"$d/d7.conf"
	import "$d/d0.conf"
	echo "$output"
	[ "$status" -eq 1 ]
	assert_contains "$output" "$d/d5.conf:1: include '$d/d6.conf': includes nest more than 5 deep"

	# a pattern with nothing to match is only a warning, as in php-fpm
	mkdir "$d/empty.d"
	printf 'include = %s/empty.d/*.conf\n[www]\nlisten = 9000\n' "$d" >"$d/glob.conf"
	import "$d/glob.conf"
	echo "$output"
	[ "$status" -eq 0 ]
	assert_contains "$output" "$d/glob.conf:1: include '$d/empty.d/*.conf' matches no file"
}

@test "values that mean something to fpmd's syntax are quoted, \${NAME} kept" {
	local d
	d=$(t_tmp)
	cat >"$d/q.conf" <<-'EOF'
	[www]
	listen = ${FPMD_Q_DIR}/q.sock
	pm = static
	pm.max_children = 1
	ping.path = /ping
	ping.response = "a # b // c /* d { e } \"f\" \\ g"
	php_value[error_log] = '${not_env}/x'
	php_admin_value[sendmail_path] = /usr/sbin/sendmail -t -i ; comment
	env[A] = "${HOME}"
	EOF
	import -o "$d/fpmd.conf" "$d/q.conf"
	echo "$output"
	[ "$status" -eq 0 ]
	run cat "$d/fpmd.conf"
	echo "$output"
	assert_contains "$output" '    ping.response = "a # b // c /* d { e } \"f\" \\ g"'
	assert_contains "$output" '        sendmail_path = "/usr/sbin/sendmail -t -i"'
	FPMD_Q_DIR=$d run "$FPMD_BIN" -t -R -c "$d/fpmd.conf"
	echo "$output"
	[ "$status" -eq 0 ]
	# fpmd reads back what php-fpm had: the ping answers the same text
	export FPMD_Q_DIR=$d
	fpmd_start "$d/fpmd.conf"
	run env -i SCRIPT_FILENAME=/ping SCRIPT_NAME=/ping REQUEST_METHOD=GET \
		cgi-fcgi -bind -connect "$d/q.sock"
	[ "$status" -eq 0 ]
	assert_contains "$output" 'a # b // c /* d { e } "f" \ g'
}

@test "import-php-fpm: usage errors and an output that cannot be written" {
	local d
	d=$(t_tmp)
	import
	[ "$status" -eq 2 ]
	assert_contains "$output" "no php-fpm configuration file given"
	import a b
	[ "$status" -eq 2 ]
	import -p relative "$RICH/php-fpm.conf"
	[ "$status" -eq 2 ]
	assert_contains "$output" "-p: 'relative' is not an absolute directory"
	import --json "$RICH/php-fpm.conf"
	[ "$status" -eq 2 ]
	import -o "$d/no/such/dir/out.conf" -p "$RICH" "$RICH/php-fpm.conf"
	echo "$output"
	[ "$status" -eq 1 ]
	assert_contains "$output" "cannot write $d/no/such/dir/out.conf: No such file or directory"
	run "$FPMCTL" help import-php-fpm
	[ "$status" -eq 0 ]
	assert_contains "$output" "usage: fpmctl [OPTIONS] import-php-fpm"
}

# --------------------------------------- fpmd -t on what migrating users write

@test "fpmd -t on Debian's php-fpm.conf: said to be php-fpm's, the importer named" {
	local d
	d=$(t_tmp)/deb
	debian_copy "$d"
	run -78 "$FPMD_BIN" -t -R -c "$d/php-fpm.conf"
	echo "$output"
	assert_eq "$d/php-fpm.conf:13: this is a php-fpm configuration (INI: '[global]', ';' comments), not fpmd's: convert it with fpmctl import-php-fpm $d/php-fpm.conf -o fpmd.conf" \
		"$(head -1 <<<"$output")"
	assert_eq 2 "${#lines[@]}"
	# the pool file alone, too
	run -78 "$FPMD_BIN" -t -R -c "$d/pool.d/www.conf"
	assert_contains "$output" "$d/pool.d/www.conf:4: this is a php-fpm configuration (INI: '[www]', ';' comments)"
	# and what it says to do works
	cd "$d"
	"$FPMCTL" import-php-fpm "$d/php-fpm.conf" -o fpmd.conf
	run -0 "$FPMD_BIN" -t -R -c fpmd.conf
}

@test "fpmd -t: php-fpm's [www], [global] and ';' comments in an fpmd file" {
	local c
	c=$(t_tmp)/mixed.conf
	cat >"$c" <<-EOF
	[global]
	pool www {
	    listen = "$(t_tmp)/www.sock"   ; the socket
	    pm = static
	    pm.max_children = 1
	}
	[api]
	EOF
	run -78 "$FPMD_BIN" -t -R -c "$c"
	echo "$output"
	assert_contains "$output" "$c:1: '[global]' is php-fpm's: fpmd's global options stand outside any pool section, so remove this line"
	assert_contains "$output" "$c:3: ';' starts no comment in fpmd's files (it did in php-fpm's): write '#' or '//' instead"
	assert_contains "$output" "$c:7: '[api]' is php-fpm's: write pool api { ... } around the pool's options"
	assert_eq 4 "${#lines[@]}"
}

@test "fpmd -t: a misspelt option gets the name it meant, and nothing more" {
	local c
	c=$(t_tmp)/typo.conf
	cat >"$c" <<-EOF
	pool www {
	    listen = "$(t_tmp)/www.sock"
	    pm = static
	    pm.max_chlidren = 4
	}
	EOF
	run -78 "$FPMD_BIN" -t -R -c "$c"
	echo "$output"
	assert_eq "$c:4: pool www: unknown option 'pm.max_chlidren' (did you mean 'pm.max_children'?)" "${lines[0]}"
	assert_eq 2 "${#lines[@]}"
	assert_not_contains "$output" "no 'pm.max_children' set"
	sed -i 's/chlidren/children/' "$c"
	run -0 "$FPMD_BIN" -t -R -c "$c"
}

@test "fpmd -t: a socket whose directory is missing fails the test, with the reason" {
	local c d
	d=$(t_tmp)/run/php
	c=$(t_tmp)/dir.conf
	cat >"$c" <<-EOF
	control.socket = "$(t_tmp)/control.sock"
	pool www {
	    listen = "$d/www.sock"
	    pm = static
	    pm.max_children = 1
	}
	EOF
	run -78 "$FPMD_BIN" -t -R -c "$c"
	echo "$output"
	assert_eq "$c:3: pool www: listen: cannot create the socket $d/www.sock: its directory $d does not exist: create it first (No such file or directory)" "${lines[0]}"
	# the start fails the same way, so the test must not pass
	run "$FPMD_BIN" -R -c "$c"
	[ "$status" -ne 0 ]
	assert_contains "$output" "No such file or directory"
	mkdir -p "$d"
	run -0 "$FPMD_BIN" -t -R -c "$c"
	# an address this host does not have
	sed -i "s|\"$d/www.sock\"|\"192.0.2.1:9000\"|" "$c"
	run -78 "$FPMD_BIN" -t -R -c "$c"
	echo "$output"
	assert_contains "$output" "$c:3: pool www: listen: cannot listen on 192.0.2.1:9000: Cannot assign requested address (no interface of this host has that address)"
}

# Every directive the importer comments out must be one fpmd refuses as
# php-fpm's alone: when fpmd gains a directive, the importer's table
# (ctl/import.c) must copy it, or a migration silently loses the setting.
@test "every directive the importer drops is one fpmd names as having no equivalent" {
	local d name scope n=0
	d=$(t_tmp)
	# the table's IA_DROP rows: { "NAME", SCOPE, IA_DROP
	while read -r name scope; do
		n=$((n + 1))
		if [[ $scope == *IS_GLOBAL* ]]; then
			printf '%s = 1\npool www {\n listen = "%s/w.sock"\n pm = static\n pm.max_children = 1\n}\n' \
				"$name" "$d" >"$d/fpmd.conf"
		else
			printf 'pool www {\n listen = "%s/w.sock"\n pm = static\n pm.max_children = 1\n %s = 1\n}\n' \
				"$d" "$name" >"$d/fpmd.conf"
		fi
		run --separate-stderr "$FPMD_BIN" -t -R -c "$d/fpmd.conf"
		assert_eq 78 "$status" "fpmd -t with $name"
		assert_contains "$stderr" "php-fpm's '$name' has no fpmd equivalent"
	done < <(tr '\n' ' ' <"$FPMD_SRCDIR/ctl/import.c" |
		grep -oE '\{ "[a-z_.]+", (IS_GLOBAL|IS_POOL)( \| IS_POOL)?, IA_DROP' |
		sed -E 's/\{ "([^"]+)", ([^,]+), IA_DROP/\1 \2/' | tr -d '|' | sed 's/  */ /g')
	((n >= 4)) || fail "found only $n IA_DROP rows in ctl/import.c: the pattern no longer matches the table"
}
