#!/usr/bin/env bats
# The manual pages (man/): they format without a warning, and they cannot
# fall behind the code. The directives of fpmd.conf(5) are compared with
# docs/config.md and with the daemon's option tables, the commands and
# options of fpmctl(8) and fpmd(8) with what the programs themselves print
# for --help. A name added to one place and not to the others fails here,
# saying where it is missing.

load helper

MAN=$FPMD_SRCDIR/man
DOC=$FPMD_SRCDIR/docs/config.md
SRC=$FPMD_SRCDIR/daemon

# md_names HEADING: the option names of the table under the "## HEADING" of
# docs/config.md (up to the next heading): the backquoted names in each
# row's first cell, their first word ("env { NAME = value ... }" is env).
md_names() {
	awk -v h="## $1" '
		$0 == h { on = 1; next }
		on && /^#/ { exit }
		on && /^\| `/ {
			split($0, cell, "|")
			s = cell[2]
			while (match(s, /`[^`]*`/)) {
				w = substr(s, RSTART + 1, RLENGTH - 2)
				sub(/ .*/, "", w)
				if (w ~ /^[a-z][a-z0-9_.]*$/)
					print w
				s = substr(s, RSTART + RLENGTH)
			}
		}' "$DOC" | sort -u
}

# man_names SECTION: the names in ".It Ic NAME [, Ic NAME2 ...]" lines of
# fpmd.conf(5)'s ".Sh SECTION".
man_names() {
	awk -v h=".Sh $1" '
		$0 == h { on = 1; next }
		on && /^\.Sh / { exit }
		on && /^\.It Ic / {
			for (i = 2; i < NF; i++)
				if ($i == "Ic") {
					w = $(i + 1)
					gsub(/\\/, "", w)
					print w
				}
		}' "$MAN/fpmd.conf.5" | sort -u
}

# src_global, src_pool, src_fpm_only: the daemon's tables. Options are
# GO(...)/PO(...) rows of daemon/conf_value.c; a pool's free-form sections
# (env and php_secs[]) and the php-fpm directives it names rather than
# calls unknown (fpm_only[]) are in daemon/conf_confuse.c.
src_global() {
	sed -n 's/^[[:space:]]*GO(GO_[A-Z_]*, "\([^"]*\)".*/\1/p' \
		"$SRC/conf_value.c" | sort -u
}
src_pool() {
	{
		sed -n 's/^[[:space:]]*PO(PO_[A-Z_]*, "\([^"]*\)".*/\1/p' \
			"$SRC/conf_value.c"
		awk '/^conf_confuse_init/ { on = 1 }
			on && /root_opts = calloc/ { exit }
			on' "$SRC/conf_confuse.c" |
			sed -n 's/^[[:space:]]*o->name = "\([a-z_]*\)";.*/\1/p'
		awk '/php_secs\[\] = \{/ { on = 1; next }
			on && /^\};/ { exit }
			on' "$SRC/conf_confuse.c" |
			sed -n 's/^[[:space:]]*{ "\([^"]*\)".*/\1/p'
	} | sort -u
}
src_fpm_only() {
	awk '/fpm_only\[\] = \{/ { on = 1; next }
		on && /^\};/ { exit }
		on' "$SRC/conf_confuse.c" |
		sed -n 's/^[[:space:]]*{ "\([^"]*\)".*/\1/p' | sort -u
}

# same NAME_A FILE_A NAME_B FILE_B: the two sorted lists are equal, else
# print what each lacks.
same() {
	local out
	out=$(comm -3 "$2" "$4" | awk -v a="$1" -v b="$3" '
		/^\t/ { print substr($0, 2) ": in " b ", missing from " a; next }
		{ print $0 ": in " a ", missing from " b }')
	[[ -z $out ]] || fail "$out"
}

# man_has_flag PAGE --OPTION: PAGE documents the option (mdoc writes
# --config-file as "Fl \-config\-file").
man_has_flag() {
	local o=${2:1}
	grep -qF -- "Fl ${o//-/\\-}" "$MAN/$1"
}

# three WHAT: docs/config.md, fpmd.conf(5) and the source agree on the
# lists in $dir/{doc,man,src}.
three() {
	local d=$1
	[[ -s $d/doc && -s $d/man && -s $d/src ]] ||
		fail "an empty list: doc $(wc -l <"$d/doc"), man $(wc -l <"$d/man"), source $(wc -l <"$d/src")" ||
		return 1
	same docs/config.md "$d/doc" fpmd.conf.5 "$d/man" &&
		same "the daemon's tables" "$d/src" fpmd.conf.5 "$d/man"
}

@test "the manual pages format without a warning (mandoc -Tlint, groff -ww)" {
	local f out
	command -v mandoc >/dev/null ||
		fail "mandoc is not installed: apt-get install mandoc (contrib/setup.sh does)"
	for f in fpmd.8 fpmctl.8 fpmd.conf.5; do
		[[ -s $MAN/$f ]] || fail "no $MAN/$f"
		out=$(mandoc -Tlint -Wwarning "$MAN/$f" 2>&1) ||
			fail "mandoc -Tlint $f:" "$out"
		[[ -z $out ]] || fail "mandoc -Tlint $f:" "$out"
		# groff says some warnings but exits 0: any output fails.
		out=$(groff -mandoc -ww -z "$MAN/$f" 2>&1) ||
			fail "groff -ww $f:" "$out"
		[[ -z $out ]] || fail "groff -ww $f:" "$out"
	done
}

@test "the linter check fails on a page with a warning" {
	local bad=$BATS_TEST_TMPDIR/bad.8
	sed 's/^\.Sh SEE ALSO$/.Sh SEE ALSO\n.Xr/' "$MAN/fpmd.8" >"$bad"
	run mandoc -Tlint -Wwarning "$bad"
	[[ $status -ne 0 && -n $output ]] ||
		fail "mandoc found nothing wrong in a page with a bare .Xr" "$output"
}

@test "fpmd.conf(5) has every global option of docs/config.md and of the daemon" {
	local d=$BATS_TEST_TMPDIR
	md_names "Global options" >"$d/doc"
	man_names "GLOBAL OPTIONS" >"$d/man"
	src_global >"$d/src"
	three "$d"
}

@test "fpmd.conf(5) has every pool option of docs/config.md and of the daemon" {
	local d=$BATS_TEST_TMPDIR
	md_names "Pool options" >"$d/doc"
	man_names "POOL OPTIONS" >"$d/man"
	src_pool >"$d/src"
	three "$d"
	# the free-form sections are there, not only the plain options
	grep -qx env "$d/man" && grep -qx php_admin_flag "$d/man"
}

@test "fpmd.conf(5) names every php-fpm directive fpmd has no equivalent for" {
	local d=$BATS_TEST_TMPDIR
	md_names "php-fpm directives without an fpmd equivalent" >"$d/doc"
	man_names "PHP-FPM DIRECTIVES WITHOUT AN EQUIVALENT" >"$d/man"
	src_fpm_only >"$d/src"
	three "$d"
}

@test "the directive check notices a directive the page lacks" {
	local d=$BATS_TEST_TMPDIR
	md_names "Pool options" >"$d/doc"
	man_names "POOL OPTIONS" | grep -vx 'pm.max_requests' >"$d/man"
	src_pool >"$d/src"
	run three "$d"
	[[ $status -ne 0 ]] || fail "a missing pm.max_requests went unnoticed"
	[[ $output == *"pm.max_requests: in docs/config.md, missing from fpmd.conf.5"* ]] ||
		fail "unclear report:" "$output"
}

@test "fpmctl(8) has every command and option fpmctl's help lists" {
	local d=$BATS_TEST_TMPDIR c o
	"$FPMD_BUILDDIR/fpmctl" help >"$d/help"
	awk '/^Commands:/ { on = 1; next } on && /^$/ { exit }
		on && /^  [a-z]/ { print $1 }' "$d/help" | sort -u >"$d/src"
	awk '/^\.Sh COMMANDS/ { on = 1; next } on && /^\.Sh / { exit }
		on && /^\.It Cm / { print $3 }
		on && /^\.It Xo/ { getline; if ($1 == ".Cm") print $2 }' \
		"$MAN/fpmctl.8" | tr -d '\\' | sort -u >"$d/man"
	[[ $(wc -l <"$d/src") -ge 8 ]] || fail "fpmctl help lists few commands:" "$(cat "$d/help")"
	same "fpmctl help" "$d/src" fpmctl.8 "$d/man"
	# every long option, of fpmctl and of each command
	{
		cat "$d/help"
		while read -r c; do
			"$FPMD_BUILDDIR/fpmctl" help "$c"
		done <"$d/src"
	} | grep -oE -- '--[a-z][a-z-]*' | sort -u >"$d/opts"
	[[ -s $d/opts ]]
	while read -r o; do
		man_has_flag fpmctl.8 "$o" ||
			fail "fpmctl's option $o is not in fpmctl.8"
	done <"$d/opts"
}

@test "fpmd(8) has every option fpmd -h lists" {
	local o n=0
	while read -r o; do
		n=$((n + 1))
		man_has_flag fpmd.8 "$o" ||
			fail "fpmd's option $o is not in fpmd.8"
	done < <("$FPMD_BUILDDIR/fpmd" -h | grep -oE -- '--[a-z][a-z-]*' | sort -u)
	((n >= 5)) || fail "fpmd -h lists only $n long options"
}

@test "each directive of fpmd.conf(5) says its php-fpm counterpart, or that there is none" {
	local missing
	missing=$(awk '
		/^\.Sh (GLOBAL|POOL) OPTIONS$/ { on = 1; next }
		on && /^\.Sh / { on = 0 }
		!on { next }
		/^\.It Ic / || /^\.El/ {
			if (name != "" && !seen)
				print name
			name = ""
			if ($1 == ".It") { name = $3; seen = 0 }
			next
		}
		/php-fpm/ { seen = 1 }' "$MAN/fpmd.conf.5")
	[[ -z $missing ]] || fail "no php-fpm name given for:" "$missing"
}
