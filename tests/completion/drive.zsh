# Drives zsh's completion system in a pseudo-terminal (zpty): for each
# command line given, an interactive `zsh -f` with compinit and the
# completion's directory first in $fpath types the line and Tab; compadd is
# wrapped to report what it adds. Prints the line, then each candidate,
# tab-separated.
#   zsh -f drive.zsh COMPLETION_DIRECTORY LINE...
zmodload zsh/zpty || exit 1
completion_dir=$1
shift
for line in "$@"; do
    zpty shell zsh -f -i
    zpty -w shell "PS1=''; RPS1=''; fpath=($completion_dir \$fpath); autoload -U compinit; compinit -u -D"
    # The markers are split in the typed text, so the terminal's echo of
    # these lines never looks like a report.
    zpty -w shell 'compadd() { local -a __hits; builtin compadd -A __hits "$@"; local __h; for __h in $__hits; do print -rn -- $'"'"'\n'"'"'"CANDI""DATE:$__h"$'"'"'\n'"'"'; done; builtin compadd "$@"; }'
    zpty -w shell 'comppostfuncs=(__done); __done() { print -rn -- $'"'"'\n'"'"'"DO""NE"$'"'"'\n'"'"'; exit }'
    zpty -w shell 'bindkey "^I" complete-word'
    zpty -wn shell "$line"$'\t'
    out=''
    # RLSOF_TEST_SLOWDOWN: the kernel matrix's VMs run 8-40x slower (TCG),
    # where compinit alone takes longer than the deadline.
    deadline=$((SECONDS + 20 * ${RLSOF_TEST_SLOWDOWN:-1}))
    while ((SECONDS < deadline)); do
        if zpty -rt shell chunk; then
            out+=$chunk
            [[ $out == *DONE* ]] && break
        else
            sleep 0.05
        fi
    done
    zpty -d shell
    printf '%s' "$line"
    for report in ${(f)out}; do
        [[ $report == CANDIDATE:* ]] && printf '\t%s' "${${report#CANDIDATE:}%$'\r'}"
    done
    printf '\n'
done
