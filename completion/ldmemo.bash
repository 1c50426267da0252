# bash completion for ldmemo: subcommands, options, formats, signals, files
# and, for ctl, process ids and requests. Installed by `make install` into
# bash-completion's directory; or `source completion/ldmemo.bash`.

_ldmemo_run_opts="-c --config -s --stats -f --format --stats-signal -v --verbose --strict
--verify -h --help -V --version"

_ldmemo_ctl() {
	local cur=$1 i=$2
	# COMP_WORDS: ldmemo ctl PID REQUEST ...
	case $i in
	2)
		COMPREPLY=($(compgen -W "$(ps -u "$(id -u)" -o pid= 2>/dev/null)" -- "$cur"))
		;;
	3)
		COMPREPLY=($(compgen -W "stats invalidate keys --help" -- "$cur"))
		;;
	*)
		case ${COMP_WORDS[3]} in
		stats)
			if [[ ${COMP_WORDS[i - 1]} == -f || ${COMP_WORDS[i - 1]} == --format ]]; then
				COMPREPLY=($(compgen -W "text json prom" -- "$cur"))
			else
				COMPREPLY=($(compgen -W "-f --format" -- "$cur"))
			fi
			;;
		invalidate)
			[[ $i == 4 ]] && COMPREPLY=($(compgen -W "--all" -- "$cur"))
			;;
		keys)
			[[ $i -gt 4 ]] && COMPREPLY=($(compgen -W "--limit" -- "$cur"))
			;;
		esac
		;;
	esac
}

_ldmemo() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmd=${COMP_WORDS[1]} i
	COMPREPLY=()
	if [[ $COMP_CWORD == 1 ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$_ldmemo_run_opts" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "check symbols stats ctl profile" -- "$cur")
				$(compgen -c -- "$cur"))
		fi
		return
	fi
	case $cmd in
	check)
		case $prev in
		-c | --config) COMPREPLY=($(compgen -f -- "$cur")) ;;
		*)
			if [[ $cur == -* ]]; then
				COMPREPLY=($(compgen -W "-c --config -h --help" -- "$cur"))
			else
				COMPREPLY=($(compgen -c -- "$cur") $(compgen -f -- "$cur"))
			fi
			;;
		esac
		;;
	symbols)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--config --prototypes -h --help" -- "$cur"))
		else
			COMPREPLY=($(compgen -c -- "$cur") $(compgen -f -- "$cur"))
		fi
		;;
	stats)
		case $prev in
		-f | --format) COMPREPLY=($(compgen -W "text json prom" -- "$cur")) ;;
		*)
			if [[ $cur == -* ]]; then
				COMPREPLY=($(compgen -W "-f --format -a --all -h --help" -- "$cur"))
			else
				COMPREPLY=($(compgen -f -- "$cur"))
			fi
			;;
		esac
		;;
	ctl)
		_ldmemo_ctl "$cur" "$COMP_CWORD"
		;;
	profile)
		for ((i = 2; i < COMP_CWORD; i++)); do
			case ${COMP_WORDS[i]} in
			-o | --top) ((i++)) ;;
			--) ((i++)); break ;;
			-*) ;;
			*) break ;;
			esac
		done
		if ((i < COMP_CWORD)); then
			COMPREPLY=($(compgen -f -- "$cur"))
		elif [[ $prev == -o ]]; then
			COMPREPLY=($(compgen -f -- "$cur"))
		elif [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-o --top -h --help --" -- "$cur"))
		else
			COMPREPLY=($(compgen -c -- "$cur"))
		fi
		;;
	*)
		# Run mode: options until PROGRAM, then PROGRAM's own arguments.
		for ((i = 1; i < COMP_CWORD; i++)); do
			case ${COMP_WORDS[i]} in
			-c | --config | -s | --stats | -f | --format | --stats-signal) ((i++)) ;;
			--) ((i++)); break ;;
			-*) ;;
			*) break ;;
			esac
		done
		if ((i < COMP_CWORD)); then
			COMPREPLY=($(compgen -f -- "$cur"))
			return
		fi
		case $prev in
		-c | --config) COMPREPLY=($(compgen -f -- "$cur")) ;;
		-s | --stats) COMPREPLY=($(compgen -W "stderr fd:" -- "$cur") $(compgen -f -- "$cur")) ;;
		-f | --format) COMPREPLY=($(compgen -W "text json prom" -- "$cur")) ;;
		--stats-signal) COMPREPLY=($(compgen -W "USR1 USR2 HUP INT QUIT TERM ALRM WINCH" -- "$cur")) ;;
		*)
			if [[ $cur == -* ]]; then
				COMPREPLY=($(compgen -W "$_ldmemo_run_opts --" -- "$cur"))
			else
				COMPREPLY=($(compgen -c -- "$cur"))
			fi
			;;
		esac
		;;
	esac
}

complete -o filenames -F _ldmemo ldmemo
