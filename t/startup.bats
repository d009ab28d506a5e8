#!/usr/bin/env bats
# What PHP itself reads when a pool's generation starts (php.ini, the scan
# dir, extensions) and the files fpmd opens for it: an error there is
# refused with the reason by fpmd -t, at start and at reload, and the
# serving generation goes on; PHP's start-up messages are fpmd log lines.

# $stderr comes from `run --separate-stderr`.
# shellcheck disable=SC2154

load helper
bats_require_minimum_version 1.5.0

teardown() {
	teardown_stack
}

# ini_files: $d/good.ini (max_execution_time = 11) and $d/broken.ini, whose
# quoted memory_limit is never closed: PHP reports the end of the file,
# line 3, and would ignore the max_execution_time in the string.
ini_files() {
	local d=$BATS_TEST_TMPDIR
	printf 'max_execution_time = 11\n' >"$d/good.ini"
	printf 'memory_limit = "96M\nmax_execution_time = 7\n' >"$d/broken.ini"
	mkdir -p "$d/www"
	printf '<?php echo ini_get("max_execution_time");\n' >"$d/www/met.php"
	open_path "$d/www"
	chmod 644 "$d/good.ini" "$d/broken.ini" "$d/www/met.php"
	BROKEN_AT="$d/broken.ini:3: syntax error, unexpected end of file"
}

# met: max_execution_time as the pool's workers see it (the response's
# body: what follows the headers).
met() {
	local d=$BATS_TEST_TMPDIR
	"$FPMD_BUILDDIR/t/fcgi-client" -t 10 -o "$d/met.out" \
		-p REQUEST_METHOD=GET -p SCRIPT_NAME=/met.php \
		-p SCRIPT_FILENAME="$d/www/met.php" "$FPMD_SOCK" >/dev/null 2>&1 ||
		return 1
	sed '1,/^\r\{0,1\}$/d' "$d/met.out"
}

# run_fpmd ARGS...: fpmd in the foreground until it exits by itself (it
# refuses to start), at most 30 s; status and output as `run` gives them.
run_fpmd() {
	local -a root=()
	((EUID == 0)) && root=(-R)
	run --separate-stderr timeout 30 "$FPMD_BIN" "${root[@]}" "$@"
}

@test "a php.ini with a syntax error: fpmd -t and the start refuse it with FILE:LINE, in fpmd's log format" {
	local d=$BATS_TEST_TMPDIR
	ini_files
	fpmd_conf "php_ini = \"$d/broken.ini\""
	sed -i "1i control.socket = \"$d/control.sock\"" "$FPMD_CONF"

	run_fpmd -t -c "$FPMD_CONF"
	assert_eq 78 "$status" "fpmd -t's exit status ($stderr)"
	assert_contains "$stderr" "pool www: $BROKEN_AT"
	assert_contains "$stderr" "test failed"

	run_fpmd -c "$FPMD_CONF"
	assert_eq 78 "$status" "fpmd's exit status ($stderr)"
	assert_match "$stderr" "ERROR: \\[pool www\\] cannot start PHP: $BROKEN_AT"
	# PHP's own bare line is not passed through
	assert_not_contains "$stderr" "PHP:  "
	assert_not_contains "$stderr" "ready to handle connections"
}

@test "a syntax error in a file of the scan dir, log_format = json: one JSON record at ERROR for the pool" {
	local d=$BATS_TEST_TMPDIR
	ini_files
	mkdir "$d/conf.d"
	cp "$d/broken.ini" "$d/conf.d/20-broken.ini"
	chmod 755 "$d/conf.d"
	fpmd_conf "php_ini = \"$d/good.ini\"" \
		"php_ini_scan_dir = \"$d/conf.d\""
	sed -i "1i log_format = json\ncontrol.socket = \"$d/control.sock\"" "$FPMD_CONF"

	run_fpmd -c "$FPMD_CONF"
	assert_eq 78 "$status" "fpmd's exit status ($stderr)"
	assert_not_contains "$stderr" "PHP:  "
	run "$PYTHON" -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if "20-broken.ini:3:" in r["message"]:
        print(r["level"], r.get("pool"), r["message"])' <<<"$stderr"
	assert_eq 0 "$status"
	assert_match "$output" "^ERROR .*\\[pool www\\] cannot start PHP: $d/conf.d/20-broken.ini:3: syntax error"

	# with the good file only, the same configuration starts
	rm "$d/conf.d/20-broken.ini"
	run_fpmd -t -c "$FPMD_CONF"
	assert_eq 0 "$status" "fpmd -t's exit status ($stderr)"
	fpmd_start
	assert_eq 11 "$(met)"
}

@test "a reload to a php.ini with a syntax error: reload_failed with FILE:LINE, the serving generation goes on" {
	local d=$BATS_TEST_TMPDIR
	ini_files
	fpmd_conf "php_ini = \"$d/good.ini\""
	fpmd_start
	assert_eq 11 "$(met)"

	sed -i "s|$d/good.ini|$d/broken.ini|" "$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 1 "$status" "fpmctl reload's exit status ($stderr)"
	assert_contains "$stderr" "(reload_failed)"
	assert_contains "$stderr" "$BROKEN_AT"
	assert_eq 1 "$(ctl --json ping | json 'd["generation"]')" "generation"
	assert_eq "$d/good.ini" "$(ctl --json config | json 'd["config"]["pools"][0]["php_ini"]')"
	assert_eq 11 "$(met)"
	assert_log_contains "ERROR: [pool www] cannot start PHP: $BROKEN_AT"
	run grep -c '^PHP:' "$FPMD_LOG"
	assert_eq 0 "$output" "PHP's bare lines in the log"

	# mended, the next reload is generation 2 with its settings
	printf 'max_execution_time = 7\n' >"$d/broken.ini"
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "fpmctl reload's exit status ($stderr)"
	assert_eq 7 "$(met)"
}

@test "an extension PHP cannot load, with php.ini's error_log set: a WARNING line for the pool at start, -t and reload; the pool serves" {
	local d=$BATS_TEST_TMPDIR
	ini_files
	printf 'error_log = "%s/php_errors.log"\n' "$d" >>"$d/good.ini"
	fpmd_conf "php_ini = \"$d/good.ini\"" \
		"php_admin_value {" "    extension = nosuch.so" "}"
	local want="WARNING: [pool www] PHP message: PHP Warning:  PHP Startup: Unable to load dynamic library"

	run_fpmd -t -c "$FPMD_CONF"
	assert_eq 0 "$status" "fpmd -t's exit status ($stderr)"
	assert_contains "$stderr" "$want 'nosuch.so'"

	fpmd_start
	assert_log_contains "$want 'nosuch.so'"
	# as php-fpm, the pool goes on without it
	assert_eq 11 "$(met)"

	# php_value, at reload: the reload is done, and said so
	sed -i 's/php_admin_value {/php_value {/; s/nosuch\.so/nosuch2.so/' "$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "fpmctl reload's exit status ($stderr)"
	assert_log_contains "$want 'nosuch2.so'"
	assert_eq 2 "$(ctl --json ping | json 'd["generation"]')" "generation"
	assert_eq 11 "$(met)"
}

@test "fpmd -t and the start refuse an error_log, access.log or slowlog whose directory does not exist, with the reason" {
	local d=$BATS_TEST_TMPDIR
	ini_files
	fpmd_conf "php_ini = \"$d/good.ini\"" \
		"access.log = \"$d/nodir/access.log\"" \
		"slowlog = \"$d/nodir/slow.log\"" \
		"request_slowlog_timeout = 5s"
	sed -i "1i error_log = \"$d/nodir2/fpmd.log\"\ncontrol.socket = \"$d/control.sock\"" "$FPMD_CONF"
	local line
	line=$(grep -n '^pool www' "$FPMD_CONF" | cut -d: -f1)

	run_fpmd -t -c "$FPMD_CONF"
	assert_eq 78 "$status" "fpmd -t's exit status ($stderr)"
	assert_contains "$stderr" "error_log '$d/nodir2/fpmd.log' cannot be created: its directory '$d/nodir2': No such file or directory"
	assert_contains "$stderr" "$FPMD_CONF:$line: pool www: access.log '$d/nodir/access.log' cannot be created: its directory '$d/nodir'"
	assert_contains "$stderr" "$FPMD_CONF:$line: pool www: slowlog '$d/nodir/slow.log' cannot be created"
	assert_contains "$stderr" "test failed"

	run_fpmd -c "$FPMD_CONF"
	assert_eq 78 "$status" "fpmd's exit status ($stderr)"
	assert_contains "$stderr" "access.log '$d/nodir/access.log' cannot be created"
	[[ ! -e $d/nodir && ! -e $d/nodir2 ]] || fail "a check created a directory"

	# once the directories exist, both pass, and -t has created no file
	mkdir "$d/nodir" "$d/nodir2"
	run_fpmd -t -c "$FPMD_CONF"
	assert_eq 0 "$status" "fpmd -t's exit status ($stderr)"
	assert_eq "" "$(ls -A "$d/nodir" "$d/nodir2" | grep -v :)" "files -t created"
}

@test "a reload with an access.log or slowlog that cannot be opened is refused before anything changes" {
	local d=$BATS_TEST_TMPDIR
	ini_files
	mkdir "$d/logs"
	fpmd_conf "php_ini = \"$d/good.ini\"" \
		"access.log = \"$d/logs/access.log\"" \
		"access.format = \"%r %s\"" \
		"slowlog = \"$d/logs/slow.log\"" \
		"request_slowlog_timeout = 5s"
	fpmd_start
	assert_eq 11 "$(met)"
	wait_until 10 grep -q '/met.php 200' "$d/logs/access.log" ||
		fail "no access log line: $(cat "$d/logs/access.log")"

	sed -i "s|$d/logs/access.log|$d/nodir/access.log|" "$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 1 "$status" "fpmctl reload's exit status ($stderr)"
	assert_contains "$stderr" "(config_invalid)"
	assert_contains "$stderr" "pool www: access.log '$d/nodir/access.log' cannot be created: its directory '$d/nodir'"
	assert_eq 1 "$(ctl --json ping | json 'd["generation"]')" "generation"
	assert_eq "$d/logs/access.log" "$(ctl --json config | json 'd["config"]["pools"][0]["access.log"]')"
	# the pool logs to its file still
	: >"$d/logs/access.log"
	assert_eq 11 "$(met)"
	wait_until 10 grep -q '/met.php 200' "$d/logs/access.log" ||
		fail "no access log line after the refused reload"

	sed -i "s|$d/nodir/access.log|$d/logs/access.log|; s|$d/logs/slow.log|$d/nodir/slow.log|" "$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 1 "$status" "fpmctl reload's exit status ($stderr)"
	assert_contains "$stderr" "pool www: slowlog '$d/nodir/slow.log' cannot be created"
	assert_eq 1 "$(ctl --json ping | json 'd["generation"]')" "generation"

	# with the directory made, the same file reloads
	mkdir "$d/nodir"
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "fpmctl reload's exit status ($stderr)"
	assert_eq 2 "$(ctl --json ping | json 'd["generation"]')" "generation"
	assert_not_contains "$(cat "$FPMD_LOG")" "goes on logging to"
}

@test "fpmd -t: a PHP start-up that exits (opcache.preload without preload_user, as root) fails the test with PHP's words" {
	require_php_ext opcache
	((EUID == 0)) || skip "opcache.preload_user is only required as root"
	local d=$BATS_TEST_TMPDIR
	printf '<?php\n' >"$d/preload.php"
	fpmd_conf 'php_admin_value {' "    opcache.preload = \"$d/preload.php\"" '}'
	run_fpmd -t -c "$FPMD_CONF"
	assert_eq 78 "$status" "fpmd -t's exit status ($stderr)"
	assert_match "$stderr" "ERROR: \\[pool www\\] PHP start-up: .*opcache.preload_user"
	assert_contains "$stderr" "pool www: PHP start-up exited with code 254"
	assert_contains "$stderr" "test failed"
}
