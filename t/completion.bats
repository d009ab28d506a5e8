#!/usr/bin/env bats
# Bash completion for fpmctl (contrib/bash-completion/fpmctl.bash): sourced into
# a bash of its own and driven as readline drives it, through COMP_WORDS
# and COMP_CWORD, against a real fpmd for the pool names of 'scale'.

load helper

COMPLETION=$FPMD_SRCDIR/contrib/bash-completion/fpmctl.bash

# complete [--lib] WORDS...: the completions bash offers for WORDS, the
# last being the word under the cursor (possibly empty), one a line,
# sorted. fpmctl is the word before them. --lib loads the bash-completion
# package first, as an interactive shell on Debian does.
complete_words() {
	local lib=
	if [[ $1 == --lib ]]; then
		lib=/usr/share/bash-completion/bash_completion
		shift
	fi
	# shellcheck disable=SC2016
	bash --norc --noprofile -c '
		set -u
		[[ -z $1 ]] || source "$1"
		source "$2"
		shift 2
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		COMPREPLY=()
		_fpmctl fpmctl "${COMP_WORDS[COMP_CWORD]}" \
		    "${COMP_WORDS[COMP_CWORD - 1]}" || exit 1
		[[ $(complete -p fpmctl) == *"-F _fpmctl"* ]] || exit 1
		((${#COMPREPLY[@]} == 0)) || printf "%s\n" "${COMPREPLY[@]}"
	' complete "$lib" "$COMPLETION" "$FPMCTL" "$@" | sort
}

# two_pools: fpmd_conf with a second pool "api-2.x" (a name with the
# characters pool names may have besides letters).
two_pools() {
	fpmd_conf
	cat >>"$FPMD_CONF" <<-CONF
	pool api-2.x {
	    listen = "$(t_tmp)/api.sock"
	    pm = static
	    pm.max_children = 1
	}
	CONF
}

teardown() {
	teardown_stack
}

@test "completes the commands fpmctl's help lists, and only those" {
	local want
	want=$("$FPMCTL" help | awk '/^Commands:/ { on = 1; next }
		on && /^$/ { exit } on && /^  [a-z]/ { print $1 }' | sort)
	[[ $(wc -l <<<"$want") -ge 8 ]] || fail "few commands in fpmctl help: $want"
	run complete_words ""
	assert_eq "$want" "$output"
	run complete_words re
	assert_eq $'reload\nreopen-logs' "$output"
	run complete_words -s /nonexistent/ctl.sock st
	assert_eq $'status\nstop' "$output"
}

@test "completes fpmctl's options, and each command's own" {
	run complete_words --
	assert_eq $'--config\n--help\n--json\n--socket\n--timeout\n--version' "$output"
	run complete_words stop --
	assert_eq $'--help\n--json\n--no-wait\n--now\n--timeout' "$output"
	run complete_words status --f
	assert_eq --full "$output"
	run complete_words top --
	assert_eq $'--delay\n--help\n--iterations\n--sort' "$output"
	run complete_words top --sort ""
	assert_eq $'cpu\nduration\nmemory\npid' "$output"
	# an option's value is not completed as a command or an option
	run complete_words top -d ""
	assert_eq "" "$output"
	run complete_words --timeout ""
	assert_eq "" "$output"
}

@test "completes the pool names of the running fpmd for scale, from -s, -c and FPMCTL_SOCKET" {
	two_pools
	fpmd_start
	run complete_words -s "$FPMD_CTL" scale ""
	assert_eq $'api-2.x\nwww' "$output"
	run complete_words -s "$FPMD_CTL" scale a
	assert_eq api-2.x "$output"
	# --socket=PATH, which bash splits at '='
	run complete_words --json --socket = "$FPMD_CTL" scale w
	assert_eq www "$output"
	run complete_words -c "$FPMD_CONF" --timeout 0 scale ""
	assert_eq $'api-2.x\nwww' "$output"
	FPMCTL_SOCKET=$FPMD_CTL run complete_words scale ""
	assert_eq $'api-2.x\nwww' "$output"
	# N, after the pool, is not completed
	run complete_words -s "$FPMD_CTL" scale www ""
	assert_eq "" "$output"
}

@test "a pool added by a reload is completed, one removed no longer is" {
	two_pools
	fpmd_start
	sed -i 's/^pool api-2\.x {/pool batch {/' "$FPMD_CONF"
	ctl reload
	run complete_words -s "$FPMD_CTL" scale ""
	assert_eq $'batch\nwww' "$output"
}

@test "without a running fpmd, scale completes nothing and says nothing" {
	run complete_words -s "$BATS_TEST_TMPDIR/nobody.sock" scale ""
	assert_eq "$status" 0
	assert_eq "" "$output"
}

@test "-s and -c complete file names, with and without the bash-completion package" {
	local lib=/usr/share/bash-completion/bash_completion
	[[ -f $lib ]] || fail "no $lib: apt-get install bash-completion (contrib/setup.sh does)"
	mkdir "$BATS_TEST_TMPDIR/conf.d"
	: >"$BATS_TEST_TMPDIR/conf.d/fpmd.conf"
	run complete_words -c "$BATS_TEST_TMPDIR/conf.d/fp"
	assert_eq "$BATS_TEST_TMPDIR/conf.d/fpmd.conf" "$output"
	run complete_words --lib -c "$BATS_TEST_TMPDIR/conf.d/fp"
	assert_eq "$BATS_TEST_TMPDIR/conf.d/fpmd.conf" "$output"
	run complete_words --lib --socket "$BATS_TEST_TMPDIR/con"
	assert_eq "$BATS_TEST_TMPDIR/conf.d" "$output"
	# a name with a space is one completion, not two
	: >"$BATS_TEST_TMPDIR/conf.d/my pool.conf"
	run complete_words -c "$BATS_TEST_TMPDIR/conf.d/my"
	assert_eq "$BATS_TEST_TMPDIR/conf.d/my pool.conf" "$output"
	# and the package's own loading does not change the rest
	run complete_words --lib help sc
	assert_eq scale "$output"
}
