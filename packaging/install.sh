#!/bin/sh
# Install rlsof where the system looks for it: the binary, its manual page
# and its bash, zsh and fish completions; optionally an `lsof` name for it.
#
#   packaging/install.sh [--prefix DIR] [--lsof-alias]   install (PREFIX: /usr/local)
#   packaging/install.sh [--prefix DIR] --remove-lsof-alias
#   packaging/install.sh [--prefix DIR] --uninstall      remove what install put
#
# DESTDIR (environment) stages everything under another root, for packagers.
# The binary is target/dist/rlsof (the shipped build: LTO), built first
# (cargo build --profile dist --locked) when it is missing. Nothing that exists and is not rlsof's is
# ever overwritten or removed: the lsof alias refuses an existing lsof.
set -eu

prefix=${PREFIX:-/usr/local}
destdir=${DESTDIR:-}
action=install
alias_action=''
while [ $# -gt 0 ]; do
    case $1 in
        --prefix) prefix=$2; shift ;;
        --prefix=*) prefix=${1#--prefix=} ;;
        --lsof-alias) alias_action=add ;;
        --remove-lsof-alias) action=none; alias_action=remove ;;
        --uninstall) action=uninstall; alias_action=remove ;;
        -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

root=$(cd "$(dirname "$0")/.." && pwd)
bin=$destdir$prefix/bin
man1=$destdir$prefix/share/man/man1
bash_dir=$destdir$prefix/share/bash-completion/completions
zsh_dir=$destdir$prefix/share/zsh/site-functions
fish_dir=$destdir$prefix/share/fish/vendor_completions.d
# fish reads vendor completions under /usr/local/share only when
# XDG_DATA_DIRS says so; otherwise its system directory is the place.
if [ -z "$destdir" ] && [ "$prefix" = /usr/local ] && command -v fish >/dev/null 2>&1 &&
    ! fish -c 'contains -- $argv[1] $__fish_vendor_completionsdirs' "$prefix/share/fish/vendor_completions.d" 2>/dev/null; then
    fish_dir=/etc/fish/completions
fi
files="$bin/rlsof $man1/rlsof.1.gz $bash_dir/rlsof $zsh_dir/_rlsof $fish_dir/rlsof.fish"

say() { printf '%s\n' "$*"; }

if [ "$action" = install ]; then
    if [ ! -x "$root/target/dist/rlsof" ]; then
        say "building rlsof (cargo build --profile dist --locked)"
        (cd "$root" && cargo build --profile dist --locked)
    fi
    install -d "$bin" "$man1" "$bash_dir" "$zsh_dir" "$fish_dir"
    install -m 755 "$root/target/dist/rlsof" "$bin/rlsof"
    gzip -9nc "$root/doc/rlsof.1" >"$man1/rlsof.1.gz"
    chmod 644 "$man1/rlsof.1.gz"
    install -m 644 "$root/completions/rlsof.bash" "$bash_dir/rlsof"
    install -m 644 "$root/completions/_rlsof" "$zsh_dir/_rlsof"
    install -m 644 "$root/completions/rlsof.fish" "$fish_dir/rlsof.fish"
    for file in $files; do say "installed $file"; done
elif [ "$action" = uninstall ]; then
    for file in $files; do
        if [ -e "$file" ]; then rm -f "$file" && say "removed $file"; fi
    done
fi

case $alias_action in
    add)
        if [ -L "$bin/lsof" ] && [ "$(readlink "$bin/lsof")" = rlsof ]; then
            say "$bin/lsof already runs rlsof"
        elif [ -e "$bin/lsof" ] || [ -L "$bin/lsof" ]; then
            say "install.sh: $bin/lsof exists and is not rlsof's; left as it is" >&2
            exit 1
        else
            ln -s rlsof "$bin/lsof"
            say "$bin/lsof -> rlsof: commands that run \`lsof' find rlsof first when $prefix/bin precedes /usr/bin in PATH"
        fi
        ;;
    remove)
        if [ -L "$bin/lsof" ] && [ "$(readlink "$bin/lsof")" = rlsof ]; then
            rm -f "$bin/lsof"
            say "removed $bin/lsof; \`lsof' is $(command -v lsof || echo 'not installed') again"
        elif [ "$action" = none ]; then
            say "$bin/lsof is not rlsof's alias; nothing to remove"
        fi
        ;;
esac
