# Drives bash's programmable completion the way readline does for Tab:
# for each command line given, set COMP_LINE/COMP_POINT/COMP_WORDS (the
# current word split at COMP_WORDBREAKS, as bash splits it), call the
# function `complete -p rlsof` names, and print the line, then each
# candidate as the whole word it would make, tab-separated.
#   bash drive.bash COMPLETION_FILE LINE...
source "$1" || exit 1
shift
spec=$(complete -p rlsof) || exit 1
function=${spec##*-F }
function=${function%% *}
for line in "$@"; do
    COMP_LINE=$line
    COMP_POINT=${#line}
    read -r -a COMP_WORDS <<<"$line"
    [[ $line == *' ' ]] && COMP_WORDS+=('')
    cur=${COMP_WORDS[-1]}
    COMP_WORDS[-1]=${cur##*[:=]}
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    "$function" rlsof "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"
    kept=${cur:0:${#cur}-${#COMP_WORDS[-1]}}
    printf '%s' "$line"
    for candidate in "${COMPREPLY[@]}"; do printf '\t%s' "$kept$candidate"; done
    printf '\n'
done
