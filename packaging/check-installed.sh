#!/bin/bash
# Checks an installed rlsof the way a user meets it: the binary on PATH
# names its version and commit, `man rlsof` finds the manual, and bash, zsh
# and fish load its completions from where they look by themselves.
#   packaging/check-installed.sh BINDIR
# (BINDIR: /usr/bin for the package, /usr/local/bin for install.sh.)
set -euo pipefail
bindir=$1
fail() { echo "check-installed: $*" >&2; exit 1; }

rlsof=$(PATH=$bindir:$PATH command -v rlsof)
[ "$rlsof" = "$bindir/rlsof" ] || fail "rlsof on PATH is $rlsof, not $bindir/rlsof"
version=$("$rlsof" -v 2>&1) || fail "rlsof -v failed: $version"
grep -q "constructed as: rlsof " <<<"$version" || fail "rlsof -v: $version"
grep -Eq "git commit: [0-9a-f]{40}" <<<"$version" || fail "rlsof -v names no commit: $version"
echo "rlsof -v: $(grep -E 'constructed as|git commit' <<<"$version" | tr -s ' ' | paste -sd ';')"

page=$(man -w rlsof) || fail "man -w rlsof found nothing"
# (Debian's /usr/local/man is a link to /usr/local/share/man.)
case $(readlink -f "$page") in "$(dirname "$bindir")"/share/man/man1/rlsof.1*) ;; *) fail "man -w rlsof: $page" ;; esac
man -P cat rlsof 2>/dev/null | grep -q "list open files" || fail "man rlsof does not render"
echo "man -w rlsof: $page"

bash_spec=$(bash -c 'source /usr/share/bash-completion/bash_completion && __load_completion rlsof && complete -p rlsof') ||
    fail "bash-completion does not load rlsof's completion"
echo "bash: $bash_spec"
zsh_function=$(zsh -c 'autoload -U compinit && compinit -u && print -r -- ${_comps[rlsof]}')
[ "$zsh_function" = _rlsof ] || fail "zsh: compinit gives rlsof '$zsh_function'"
echo "zsh: rlsof completed by $zsh_function"
fish_offers=$(fish -c 'complete -C"rlsof --dele"')
[ "${fish_offers%%$'\t'*}" = --deleted ] || fail "fish: 'rlsof --dele' offers '$fish_offers'"
echo "fish: rlsof --dele -> $fish_offers"
