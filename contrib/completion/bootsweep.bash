# bash completion for bootsweep.  The options of each command come from the
# program's own --help, so they never drift from it.
_bootsweep()
{
	local cur prev cmd opts
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "scan report diff merge info cat ls check hive help --help --version" -- "$cur"))
		return
	fi
	cmd=${COMP_WORDS[1]}
	if [ "$cmd" = help ]; then
		COMPREPLY=($(compgen -W "scan report diff merge info cat ls check hive" -- "$cur"))
		return
	fi
	case $prev in
	--format) COMPREPLY=($(compgen -W "html csv table" -- "$cur")); return ;;
	--verdict) COMPREPLY=($(compgen -W "clean dirty-rollback unbootable unassessable nonclean" -- "$cur")); return ;;
	--only) COMPREPLY=($(compgen -W "nonclean" -- "$cur")); return ;;
	-j|--jobs|--mem-cap|--max-bytes|--disk-timeout|--max-depth|--partition|--shard|--shards|--code|--stream|--path)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		opts=$("${COMP_WORDS[0]}" "$cmd" --help 2>/dev/null | grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -f -- "$cur"))
}
complete -o filenames -F _bootsweep bootsweep
