# bash completion for fpmctl(8): its options, its commands and their
# options, and pool names for 'fpmctl scale', asked of the running fpmd.
#
# The commands and their options are read from fpmctl's own help, so this
# file never lists them and cannot fall behind fpmctl.  Pool names come
# from 'fpmctl --json status' on the socket the command line names (-s,
# -c, or fpmctl's default), with a short timeout, so a missing or stuck
# fpmd only means no pool names.  Works with or without the
# bash-completion package (its _filedir is used when it is there).

# _fpmctl_run ARGS...: fpmctl with the global options typed so far, whatever
# it prints on stderr hidden.
_fpmctl_run()
{
	"${_fpmctl_prog:-fpmctl}" "${_fpmctl_global[@]}" "$@" 2>/dev/null
}

# The commands: the first word of each line of "Commands:" in fpmctl's help.
_fpmctl_commands()
{
	_fpmctl_run help | awk '/^Commands:/ { on = 1; next }
		on && /^$/ { exit }
		on && /^  [a-z]/ { print $1 }'
}

# The options of command $1: the usage line's, and those its help explains
# on lines of their own ("  -d, --delay SECS   ...").
_fpmctl_cmd_options()
{
	local line first
	{
		_fpmctl_run help "$1" | {
			IFS= read -r line
			printf '%s\n' "$line"
			while IFS= read -r line; do
				[[ $line =~ ^\ +- ]] || continue
				first=${line#"${line%%[! ]*}"}
				printf '%s\n' "${first%%  *}"
			done
		}
		echo --help
	} | grep -oE -- '(^|[[ ])--?[a-zA-Z][a-zA-Z-]*' | tr -d '[ ' | sort -u
}

# The pools of the running fpmd.  Our --timeout comes after any the user
# typed, so it is the one fpmctl takes.
_fpmctl_pools()
{
	_fpmctl_run --timeout 2 --json status |
		grep -oE '"pool":"[^"]*"' | sed 's/^"pool":"//; s/"$//'
}

_fpmctl_files()
{
	if declare -F _filedir >/dev/null; then
		_filedir
	else
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$1")
	fi
}

_fpmctl()
{
	local cur prev cmd='' i w nargs=0
	local -a _fpmctl_global=()
	local _fpmctl_prog=${COMP_WORDS[0]}

	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	# "--socket=PATH": bash splits it at '=' (COMP_WORDBREAKS).
	if [[ $prev == = ]] && ((COMP_CWORD > 1)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ $cur == = ]]; then
		cur=
	fi

	# The global options typed (kept for fpmctl's own calls), then the
	# command and how many arguments it has so far.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ -z $cmd ]]; then
			case $w in
			-s | --socket | -c | --config | --timeout)
				if [[ ${COMP_WORDS[i + 1]} == = ]]; then
					_fpmctl_global+=("$w"
					    "${COMP_WORDS[i + 2]}")
					i=$((i + 2))
				else
					_fpmctl_global+=("$w"
					    "${COMP_WORDS[i + 1]}")
					i=$((i + 1))
				fi
				;;
			-s?* | -c?*)
				_fpmctl_global+=("$w")
				;;
			-*)
				;;
			*)
				cmd=$w
				;;
			esac
			continue
		fi
		case $w in
		-d | --delay | -n | --iterations | --sort)
			[[ $cmd == top ]] && i=$((i + 1))
			;;
		--timeout)
			[[ $cmd == stop ]] && i=$((i + 1))
			;;
		-*)
			;;
		=)
			i=$((i + 1))
			;;
		*)
			nargs=$((nargs + 1))
			;;
		esac
	done

	if [[ -z $cmd ]]; then
		case $prev in
		-s | --socket | -c | --config)
			_fpmctl_files "$cur"
			return 0
			;;
		--timeout)
			return 0
			;;
		esac
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W '-s --socket
			    -c --config -j --json --timeout -h --help
			    -V --version' -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W \
			    "$(_fpmctl_commands)" -- "$cur")
		fi
		return 0
	fi

	case $cmd:$prev in
	top:-d | top:--delay | top:-n | top:--iterations | stop:--timeout)
		return 0
		;;
	top:--sort)
		mapfile -t COMPREPLY < <(compgen -W 'duration cpu memory pid' \
		    -- "$cur")
		return 0
		;;
	esac
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W \
		    "$(_fpmctl_cmd_options "$cmd")" -- "$cur")
		return 0
	fi
	case $cmd in
	help)
		((nargs == 0)) &&
			mapfile -t COMPREPLY < <(compgen -W \
			    "$(_fpmctl_commands)" -- "$cur")
		;;
	scale)
		((nargs == 0)) &&
			mapfile -t COMPREPLY < <(compgen -W \
			    "$(_fpmctl_pools)" -- "$cur")
		;;
	esac
	return 0
}
complete -F _fpmctl fpmctl
