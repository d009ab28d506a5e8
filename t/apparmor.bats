#!/usr/bin/env bats
# apparmor_hat: the master's check at start, -t and reload (AppArmor on,
# fpmd confined) and each worker's change into the hat before it serves.
#
# This machine may have no AppArmor: the tests that need it enabled set
# FPMD_APPARMOR_ROOT, which puts a directory of the test's before the
# paths fpmd reads (/sys/module/apparmor/parameters/enabled) and writes
# (/proc/thread-self/attr/current), so the same code reads a label and a
# worker writes its command into a file the test looks at.

load helper
bats_require_minimum_version 1.5.0

teardown() {
	teardown_stack
}

HAT_UID=47124

# aa_conf HAT [EXTRA_POOL_LINES...]: fpmd.conf, pool www of 2 workers of
# uid HAT_UID with apparmor_hat = HAT.
aa_conf() {
	local hat=$1
	shift
	fpmd_conf "user = $HAT_UID" "group = $HAT_UID" \
		"apparmor_hat = $hat" "$@"
}

# aa_root ENABLED LABEL: a fake AppArmor under $(t_tmp)/aa, exported as
# FPMD_APPARMOR_ROOT; its attr file is writable by the pool's uid.
aa_root() {
	local r
	r=$(t_tmp)/aa
	mkdir -p "$r/sys/module/apparmor/parameters" "$r/proc/thread-self/attr"
	echo "$1" >"$r/sys/module/apparmor/parameters/enabled"
	echo "$2" >"$r/proc/thread-self/attr/current"
	chmod 0666 "$r/proc/thread-self/attr/current"
	open_path "$r/proc/thread-self/attr"
	export FPMD_APPARMOR_ROOT=$r
	AA_ATTR=$r/proc/thread-self/attr/current
}

# hello: a request for hello.php, copied where the pool's uid can read it
# (the tree may be under a directory only root may enter).
hello() {
	local w
	w=$(t_tmp)/www
	if [[ ! -f $w/hello.php ]]; then
		mkdir -p "$w"
		cp "$WWW_ROOT/hello.php" "$w/"
		chmod -R a+rX "$w"
		open_path "$w"
	fi
	"$FPMD_BUILDDIR/t/fcgi-client" -t 10 -b -p REQUEST_METHOD=GET \
		-p SCRIPT_NAME=/hello.php \
		-p SCRIPT_FILENAME="$w/hello.php" "$FPMD_SOCK" 2>&1
}

@test "apparmor_hat: without AppArmor on the machine, fpmd -t and the start refuse it with the reason" {
	[[ $(cat /sys/module/apparmor/parameters/enabled 2>/dev/null) == Y ]] &&
		skip "AppArmor is enabled here"
	unset FPMD_APPARMOR_ROOT
	aa_conf php-www
	run --separate-stderr "$FPMD_BIN" -t -c "$FPMD_CONF"
	assert_eq 78 "$status" "fpmd -t"
	assert_contains "$stderr" "$FPMD_CONF:3: pool www: apparmor_hat = php-www: AppArmor is not enabled on this machine"
	assert_contains "$stderr" "enable it, or remove apparmor_hat"
	run --separate-stderr timeout 20 "$FPMD_BIN" -c "$FPMD_CONF"
	assert_eq 78 "$status" "the start"
	assert_contains "$stderr" "apparmor_hat = php-www: AppArmor is not enabled"
}

@test "apparmor_hat: fpmd unconfined is refused, at start and at reload, and the old pool serves" {
	aa_root Y unconfined
	aa_conf php-www
	run --separate-stderr "$FPMD_BIN" -t -c "$FPMD_CONF"
	assert_eq 78 "$status"
	assert_contains "$stderr" "apparmor_hat = php-www: fpmd runs unconfined"
	# A pool without the hat serves; a reload adding it is refused.
	sed -i '/apparmor_hat/d' "$FPMD_CONF"
	fpmd_start
	assert_contains "$(hello)" "Hello, world!"
	local old
	old=$(worker_procs)
	sed -i '/pm.max_children/a\    apparmor_hat = php-www' "$FPMD_CONF"
	run --separate-stderr ctl reload
	assert_eq 1 "$status" "reload: $output"
	assert_contains "$stderr" "pool www: apparmor_hat = php-www: fpmd runs unconfined"
	assert_eq "$old" "$(worker_procs)" "the serving workers"
	assert_contains "$(hello)" "Hello, world!"
}

@test "apparmor_hat: AppArmor off (enabled = N) is said" {
	aa_root N "fpmd (enforce)"
	aa_conf php-www
	run --separate-stderr "$FPMD_BIN" -t -c "$FPMD_CONF"
	assert_eq 78 "$status"
	assert_contains "$stderr" "AppArmor is not enabled on this machine ($FPMD_APPARMOR_ROOT/sys/module/apparmor/parameters/enabled says 'N')"
}

@test "apparmor_hat: each worker changes to PROFILE//HAT before it serves, as the pool's user" {
	aa_root Y "fpmd-test (enforce)"
	aa_conf php-www
	fpmd_start
	# Both workers are up and wrote the command, over the label.
	wait_until 10 count_is 2 eval 'worker_procs | wc -l'
	assert_eq "changeprofile fpmd-test//php-www" "$(cat "$AA_ATTR")"
	assert_contains "$(hello)" "Hello, world!"
	assert_eq php-www "$(ctl --json config | json 'd["config"]["pools"][0]["apparmor_hat"]')"
	# A reload reads the label again: a new one is what the new workers use.
	echo "fpmd-other (complain)" >"$AA_ATTR"
	run --separate-stderr ctl reload
	assert_eq 0 "$status" "reload: $stderr"
	wait_until 10 count_is "changeprofile fpmd-other//php-www" cat "$AA_ATTR"
	assert_contains "$(hello)" "Hello, world!"
}

@test "apparmor_hat: a worker the kernel does not let in says why and exits 70; a reload to it is given up and the old pool serves" {
	aa_root Y "fpmd-test (enforce)"
	fpmd_conf "user = $HAT_UID" "group = $HAT_UID"
	sed -i '1i reload_timeout = 3s' "$FPMD_CONF"
	fpmd_start
	local old
	old=$(worker_procs)
	# The pool's uid may not write the attr file, as the kernel refuses
	# a change the profile does not allow.
	chmod 0644 "$AA_ATTR"
	sed -i '/pm.max_children/a\    apparmor_hat = php-www' "$FPMD_CONF"
	run --separate-stderr ctl --timeout 30 reload
	assert_eq 1 "$status" "reload: $output"
	assert_contains "$stderr" "they die at start"
	wait_log "apparmor_hat: cannot change to fpmd-test//php-www: $AA_ATTR: Permission denied" 10
	assert_log_contains "exited with code 70"
	assert_log_contains "reload failed, generation 1 keeps serving"
	assert_eq "$old" "$(worker_procs)" "the serving workers"
	assert_eq "fpmd-test (enforce)" "$(cat "$AA_ATTR")"
	assert_contains "$(hello)" "Hello, world!"
}

@test "apparmor_hat: a name with blanks or '//' is refused at its line" {
	unset FPMD_APPARMOR_ROOT
	fpmd_conf 'apparmor_hat = "a b"'
	run --separate-stderr "$FPMD_BIN" -t -R -c "$FPMD_CONF"
	assert_eq 78 "$status"
	assert_contains "$stderr" "$FPMD_CONF:8: pool www: apparmor_hat: 'a b' is no hat name"
	fpmd_conf 'apparmor_hat = "x//y"'
	run --separate-stderr "$FPMD_BIN" -t -R -c "$FPMD_CONF"
	assert_eq 78 "$status"
	assert_contains "$stderr" "apparmor_hat: 'x//y' is no hat name"
}
