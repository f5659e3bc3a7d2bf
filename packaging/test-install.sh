#!/bin/bash
# Tests the ways to install rlsof without touching the system's lsof:
#  1. packaging/install.sh into a scratch PREFIX: every file where it
#     belongs, the optional `lsof` alias (refused over an lsof that is not
#     rlsof's), the way back, and --uninstall leaving nothing behind;
#  2. the Debian `update-alternatives` entry of README's "An lsof name",
#     in a scratch alternatives database (--altdir/--admindir), and its
#     removal;
#  3. `cargo install --path . --locked`, README's first way, into a
#     scratch root.
# Needs target/dist/rlsof (cargo build --profile dist; packaging/deb.py builds it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d /tmp/rlsof-install-test.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "test-install: $*" >&2; exit 1; }
says_rlsof() { "$1" -v 2>&1 | grep -q "constructed as: rlsof "; }

prefix=$scratch/prefix
"$root/packaging/install.sh" --prefix "$prefix" --lsof-alias >/dev/null
for file in bin/rlsof share/man/man1/rlsof.1.gz share/bash-completion/completions/rlsof \
    share/zsh/site-functions/_rlsof share/fish/vendor_completions.d/rlsof.fish; do
    [ -f "$prefix/$file" ] || fail "install.sh did not install $file"
done
zcat "$prefix/share/man/man1/rlsof.1.gz" | cmp -s - "$root/doc/rlsof.1" || fail "man page differs"
says_rlsof "$prefix/bin/lsof" || fail "the lsof alias does not run rlsof"
[ "$(PATH=$prefix/bin:/usr/bin:/bin command -v lsof)" = "$prefix/bin/lsof" ] || fail "lsof is not the alias first in PATH"
"$root/packaging/install.sh" --prefix "$prefix" --remove-lsof-alias >/dev/null
[ ! -e "$prefix/bin/lsof" ] || fail "--remove-lsof-alias left $prefix/bin/lsof"

# An lsof that is not rlsof's is never replaced, nor removed.
printf '#!/bin/sh\necho mine\n' >"$prefix/bin/lsof"
if "$root/packaging/install.sh" --prefix "$prefix" --lsof-alias >/dev/null 2>&1; then
    fail "--lsof-alias replaced an existing lsof"
fi
"$root/packaging/install.sh" --prefix "$prefix" --uninstall >/dev/null
[ "$(sh "$prefix/bin/lsof")" = mine ] || fail "--uninstall touched an lsof that is not rlsof's"
rm "$prefix/bin/lsof"
left=$(find "$prefix" -type f)
[ -z "$left" ] || fail "--uninstall left: $left"
echo "install.sh: installs, aliases lsof, refuses to replace another lsof, uninstalls"

# update-alternatives, as README shows it, on a scratch database.
rlsof_binary=$prefix/rlsof
install -m 755 "$root/target/dist/rlsof" "$rlsof_binary"
alt=(update-alternatives --altdir "$scratch/alternatives" --admindir "$scratch/admin")
mkdir -p "$scratch/alternatives" "$scratch/admin" "$scratch/local-bin"
"${alt[@]}" --install "$scratch/local-bin/lsof" lsof "$rlsof_binary" 50 >/dev/null
says_rlsof "$scratch/local-bin/lsof" || fail "the lsof alternative does not run rlsof"
"${alt[@]}" --remove lsof "$rlsof_binary" >/dev/null
[ ! -e "$scratch/local-bin/lsof" ] || fail "update-alternatives --remove left the lsof link"
echo "update-alternatives: lsof runs rlsof, and --remove takes it back"

# cargo install, README's first way (into a scratch root; the target
# directory the tests built, so that only rlsof itself is built again).
cargo_root=$scratch/cargo
cargo install --quiet --path "$root" --locked --root "$cargo_root" --target-dir "$root/target" ||
    fail "cargo install --path . --locked failed"
says_rlsof "$cargo_root/bin/rlsof" || fail "cargo install's rlsof does not run"
echo "cargo install --path . --locked: $cargo_root/bin/rlsof runs"
