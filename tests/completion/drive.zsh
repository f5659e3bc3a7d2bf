# Drives zsh's completion system in a pseudo-terminal (zpty): one
# interactive `zsh -f` with compinit and the completion's directory first
# in $fpath types each command line given and Tab, then kills the line;
# compadd is wrapped to report what it adds. Prints the line, then each
# candidate, tab-separated.
#   zsh -f drive.zsh COMPLETION_DIRECTORY LINE...
zmodload zsh/zpty || exit 1
completion_dir=$1
shift
# compinit reads the head of every file in $fpath: once here, into a dump
# the shell below loads as is (-C). One shell for every line, too: under
# TCG, with $fpath on 9p, the scan and each shell's first completion
# (its functions autoloaded) take minutes, not a fraction of a second.
fpath=($completion_dir $fpath)
dump=${TMPDIR:-/tmp}/rlsof-zcompdump-$$
autoload -U compinit
compinit -u -d $dump || exit 1
trap 'zpty -d shell 2>/dev/null; rm -f $dump $dump.zwc' EXIT
zpty shell zsh -f -i
# Emacs keys whatever $EDITOR says (^U kills the line), and no listing
# after a completion, whose "do you wish to see all" would eat the ^U.
zpty -w shell "PS1=''; RPS1=''; bindkey -e; unsetopt AUTO_LIST AUTO_MENU; LISTMAX=1000000"
zpty -w shell "fpath=($completion_dir \$fpath); autoload -U compinit; compinit -u -C -d $dump"
# The markers are split in the typed text, so the terminal's echo of these
# lines never looks like a report.
zpty -w shell 'compadd() { local -a __hits; builtin compadd -A __hits "$@"; local __h; for __h in $__hits; do print -rn -- $'"'"'\n'"'"'"CANDI""DATE:$__h"$'"'"'\n'"'"'; done; builtin compadd "$@"; }'
zpty -w shell '__done() { print -rn -- $'"'"'\n'"'"'"DO""NE"$'"'"'\n'"'"' }'
zpty -w shell 'bindkey "^I" complete-word'
for line in "$@"; do
    # The completion system empties comppostfuncs after each completion.
    zpty -w shell 'comppostfuncs=(__done)'
    zpty -wn shell "$line"$'\t'
    out=''
    # RLSOF_TEST_SLOWDOWN: the kernel matrix's VMs run 8-40x slower (TCG).
    deadline=$((SECONDS + 20 * ${RLSOF_TEST_SLOWDOWN:-1}))
    while ((SECONDS < deadline)); do
        if zpty -rt shell chunk; then
            out+=$chunk
            [[ $out == *DONE* ]] && break
        else
            sleep 0.05
        fi
    done
    # The completed line is killed, not run.
    zpty -wn shell $'\C-u'
    printf '%s' "$line"
    for report in ${(f)out}; do
        [[ $report == CANDIDATE:* ]] && printf '\t%s' "${${report#CANDIDATE:}%$'\r'}"
    done
    printf '\n'
done
