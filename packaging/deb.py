#!/usr/bin/env python3
"""Build rlsof's Debian package with dpkg-deb, from the same metadata that
`cargo deb` reads ([package.metadata.deb] in Cargo.toml), without needing
cargo-deb (which takes minutes to build).

    packaging/deb.py [--no-build] [--out DIR]

Builds the shipped binary (cargo build --profile dist --locked) unless told
not to, then writes target/debian/rlsof_VERSION_ARCH.deb (or into DIR) and
prints its path. Man pages are installed gzipped, as Debian wants.
"""

import argparse
import glob
import gzip
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Assets under target/release/ come from this profile's directory, as with
# `cargo deb --profile dist`.
PROFILE = "dist"


def from_profile(path):
    return re.sub(r"^target/release/", f"target/{PROFILE}/", path)


def glibc_floor(binary):
    """The newest GLIBC_x.y symbol version the binary asks for."""
    with open(binary, "rb") as f:
        data = f.read()
    versions = {tuple(int(n) for n in v.split(b".")) for v in re.findall(rb"GLIBC_(\d+\.\d+(?:\.\d+)?)", data)}
    if not versions:
        return None
    return ".".join(str(n) for n in max(versions))


def place(src, dest, mode, stage):
    """Copy src to dest (a directory when it ends with /) under stage."""
    target = os.path.join(stage, dest)
    if dest.endswith("/"):
        target = os.path.join(target, os.path.basename(src))
    if re.match(r"usr/share/man/man\d/", dest) and not target.endswith(".gz"):
        target += ".gz"
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(src, "rb") as f, open(target, "wb") as out:
            # mtime 0: the same sources give the same package.
            with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=9, mtime=0) as gz:
                gz.write(f.read())
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(src, target)
        if dest.startswith("usr/bin/") and shutil.which("strip"):
            # As cargo deb does: the package carries no debug information.
            subprocess.run(["strip", "--strip-unneeded", target], check=True)
    os.chmod(target, int(mode, 8))
    return target


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-build", action="store_true", help="use the binary already built")
    parser.add_argument("--out", default=os.path.join(ROOT, "target", "debian"))
    args = parser.parse_args()

    with open(os.path.join(ROOT, "Cargo.toml"), "rb") as f:
        manifest = tomllib.load(f)
    package = manifest["package"]
    deb = package["metadata"]["deb"]
    if not args.no_build:
        subprocess.run(["cargo", "build", "--profile", PROFILE, "--locked"], cwd=ROOT, check=True)

    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()
    name = deb.get("name", package["name"])
    version = package["version"] + "-" + str(deb.get("revision", "1"))
    with tempfile.TemporaryDirectory() as stage:
        os.chmod(stage, 0o755)  # the package's "./", which dpkg compares with /
        installed = []
        for src, dest, mode in deb["assets"]:
            sources = sorted(glob.glob(os.path.join(ROOT, from_profile(src))))
            if not sources:
                sys.exit(f"deb.py: no file matches {src}")
            if len(sources) > 1 and not dest.endswith("/"):
                sys.exit(f"deb.py: {src} matches several files but {dest} is not a directory")
            for source in sources:
                installed.append(place(source, dest, mode, stage))

        # Debian wants every package to say its copyright (cargo deb writes
        # the same file from the same fields).
        copyright_file = os.path.join(stage, "usr/share/doc", name, "copyright")
        os.makedirs(os.path.dirname(copyright_file), exist_ok=True)
        with open(copyright_file, "w") as f:
            f.write(
                "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
                f"Upstream-Name: {package['name']}\n\n"
                f"Files: *\nCopyright: {deb.get('copyright', deb['maintainer'])}\n"
                f"License: {package.get('license', 'unknown')}\n"
            )
        os.chmod(copyright_file, 0o644)
        installed.append(copyright_file)

        depends = deb.get("depends", "$auto")
        if "$auto" in depends:
            binary = os.path.join(ROOT, "target", PROFILE, package["name"])
            floor = glibc_floor(binary)
            auto = f"libc6 (>= {floor})" if floor else "libc6"
            depends = depends.replace("$auto", auto)

        size_kib = sum(os.path.getsize(p) for p in installed) // 1024 + 1
        description = deb.get("extended-description", "").strip()
        long_lines = "\n".join(" " + (line if line.strip() else ".") for line in description.splitlines())
        control = {
            "Package": name,
            "Version": version,
            "Architecture": arch,
            "Maintainer": deb["maintainer"],
            "Installed-Size": str(size_kib),
            "Depends": depends,
            "Section": deb.get("section", "utils"),
            "Priority": deb.get("priority", "optional"),
            "Homepage": package.get("homepage", package.get("repository", "")),
            "Description": package["description"] + ("\n" + long_lines if long_lines else ""),
        }
        os.makedirs(os.path.join(stage, "DEBIAN"))
        with open(os.path.join(stage, "DEBIAN", "control"), "w") as f:
            for key, value in control.items():
                if value:
                    f.write(f"{key}: {value}\n")
        with open(os.path.join(stage, "DEBIAN", "md5sums"), "w") as f:
            for path in sorted(installed):
                with open(path, "rb") as content:
                    digest = hashlib.md5(content.read()).hexdigest()
                f.write(f"{digest}  {os.path.relpath(path, stage)}\n")

        os.makedirs(args.out, exist_ok=True)
        out = os.path.join(args.out, f"{name}_{version}_{arch}.deb")
        subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", stage, out], check=True, stdout=subprocess.DEVNULL)
    print(out)


if __name__ == "__main__":
    main()
