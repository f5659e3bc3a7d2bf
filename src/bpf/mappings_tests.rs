//! The mappings program against `/proc/PID/maps` and `stat` of the same
//! files; what its path keys tell apart; and a mapping through overlayfs,
//! which only maps can tell.

use super::*;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

fn program() -> Option<&'static MappingsProgram> {
    let program = MappingsProgram::shared();
    if program.is_none() {
        crate::test_need::program_did_not_load("rlsof_mappings");
    }
    program
}

/// maps' file mappings of process `pid`: start, end, device (major,
/// minor), inode.
fn from_maps(pid: i32) -> Vec<(u64, u64, (u32, u32), u64)> {
    let text = std::fs::read(format!("/proc/{pid}/maps")).expect("maps");
    let mut out = Vec::new();
    for line in text.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
        let line = String::from_utf8_lossy(line);
        let mut fields = line.splitn(6, ' ');
        let (range, _, _offset, dev, inode) = (
            fields.next().unwrap(),
            fields.next().unwrap(),
            fields.next().unwrap(),
            fields.next().unwrap(),
            fields.next().unwrap(),
        );
        let inode: u64 = inode.parse().unwrap();
        if inode == 0 {
            continue;
        }
        let (start, end) = range.split_once('-').unwrap();
        let (major, minor) = dev.split_once(':').unwrap();
        let hex = |s: &str| u64::from_str_radix(s, 16).unwrap();
        out.push((
            hex(start),
            hex(end),
            (hex(major) as u32, hex(minor) as u32),
            inode,
        ));
    }
    out
}

fn as_maps(m: &MappedFile) -> (u64, u64, (u32, u32), u64) {
    (m.start, m.end, m.device(), m.inode)
}

#[test]
fn tells_our_own_mappings_as_maps_does() {
    let Some(program) = program() else { return };
    let pid = std::process::id() as i32;
    // A file of ours mapped on no overlay (in a VM sharing its host's
    // root, every other file is mapped through one: those are left out).
    let (probe, _) = super::super::files::written_probe_file().expect("probe");
    let mapped = ProbeMapping::of(&probe).expect("mapped");
    // Other tests map and unmap files meanwhile: the two must agree once.
    for _ in 0..5 {
        let before = from_maps(pid);
        let told = program.files_of(pid).expect("our mappings").mappings;
        let after = from_maps(pid);
        if before == after {
            assert!(told.iter().any(|m| mapped.is_told_as(m)), "{told:?}");
            let told: Vec<_> = told.iter().map(as_maps).collect();
            assert!(
                told.iter().all(|m| before.contains(m)),
                "{told:?}\n{before:?}"
            );
            eprintln!("{} of {} file mappings told", told.len(), before.len());
            return;
        }
    }
    panic!("our own maps never stayed the same over a read");
}

/// A tmpfs of the test's own under the temporary directory, with an
/// overlay mounted in it when asked; unmounted when dropped.
struct Mounts {
    base: PathBuf,
    overlay: Option<PathBuf>,
}

fn mount(source: &str, target: &Path, fstype: &str, data: &str) -> std::io::Result<()> {
    let c = |s: &[u8]| CString::new(s).expect("no NUL");
    let (source, target) = (c(source.as_bytes()), c(target.as_os_str().as_bytes()));
    let (fstype, data) = (c(fstype.as_bytes()), c(data.as_bytes()));
    // SAFETY: NUL-terminated strings alive for the call.
    let r = unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            0,
            data.as_ptr().cast(),
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn unmount(target: &Path) {
    let target = CString::new(target.as_os_str().as_bytes()).expect("no NUL");
    // SAFETY: a NUL-terminated path alive for the call.
    unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
}

impl Mounts {
    fn new(tag: &str) -> Mounts {
        let base =
            std::env::temp_dir().join(format!("rlsof-mappings-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&base).expect("dir");
        mount("rlsof-test", &base, "tmpfs", "mode=0755").expect("tmpfs");
        Mounts {
            base,
            overlay: None,
        }
    }

    /// An overlay at `merged` with `name` in its lower layer; None when
    /// this kernel has no overlayfs.
    fn with_overlay(mut self, name: &str) -> Option<(Mounts, PathBuf)> {
        for dir in ["lower", "upper", "work", "merged"] {
            std::fs::create_dir(self.base.join(dir)).expect("layer");
        }
        std::fs::write(self.base.join("lower").join(name), [1u8; 8192]).expect("lower file");
        let b = self.base.display();
        let options = format!("lowerdir={b}/lower,upperdir={b}/upper,workdir={b}/work");
        let merged = self.base.join("merged");
        match mount("overlay", &merged, "overlay", &options) {
            Ok(()) => {}
            Err(e) => {
                crate::test_need::cannot_run(&format!("no overlayfs here: {e}"));
                return None;
            }
        }
        self.overlay = Some(merged.clone());
        Some((self, merged.join(name)))
    }
}

impl Drop for Mounts {
    fn drop(&mut self) {
        if let Some(merged) = &self.overlay {
            unmount(merged);
        }
        unmount(&self.base);
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// A process mapping each (path, offset) given, 4 KiB each, its
/// descriptors closed; `unlink` is removed once mapped. Killed when
/// dropped.
struct Mapper(std::process::Child);

impl Mapper {
    fn start(maps: &[(&Path, u64)], unlink: Option<&Path>) -> Mapper {
        let script = "import mmap, os, sys, time\n\
            os.closerange(3, 65536)\n\
            kept = []\n\
            args = sys.argv[1:]\n\
            for path, offset in zip(args[1::2], args[2::2]):\n\
            \x20   with open(path, 'rb') as f:\n\
            \x20       kept.append(mmap.mmap(f.fileno(), 4096, prot=mmap.PROT_READ, offset=int(offset)))\n\
            if args[0]:\n\
            \x20   os.unlink(args[0])\n\
            print('mapped', flush=True)\n\
            time.sleep(120)\n";
        let mut command = std::process::Command::new("python3");
        command.args(["-c", script]);
        command.arg(unlink.map(Path::as_os_str).unwrap_or_default());
        for (path, offset) in maps {
            command.arg(path).arg(offset.to_string());
        }
        let mut child = command
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        let out = child.stdout.take().expect("stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line).expect("ready");
        assert_eq!(line.trim(), "mapped");
        Mapper(child)
    }

    fn pid(&self) -> i32 {
        self.0.id() as i32
    }
}

impl Drop for Mapper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn tells_a_deleted_file_and_a_mapping_past_offset_0_as_maps_does() {
    let Some(program) = program() else { return };
    let mounts = Mounts::new("plain");
    let plain = mounts.base.join("a file");
    let other = mounts.base.join("another");
    let gone = mounts.base.join("gone");
    for path in [&plain, &other, &gone] {
        std::fs::write(path, [2u8; 8192]).expect("file");
    }
    let meta = |p: &Path| std::fs::metadata(p).expect("stat");
    let (plain_meta, other_meta) = (meta(&plain), meta(&other));
    let maps = [(&*plain, 0), (&*other, 4096), (&*plain, 4096), (&*gone, 0)];
    let mapper = Mapper::start(&maps, Some(&gone));
    let told = program.files_of(mapper.pid()).expect("mappings").mappings;
    let maps = from_maps(mapper.pid());
    assert!(
        told.iter().map(as_maps).all(|m| maps.contains(&m)),
        "{told:?}\n{maps:?}"
    );
    let of =
        |inode: u64| -> Vec<&MappedFile> { told.iter().filter(|m| m.inode == inode).collect() };
    let (plain_told, other_told) = (of(plain_meta.ino()), of(other_meta.ino()));
    assert_eq!((plain_told.len(), other_told.len()), (2, 1));
    let user_dev = libc::makedev(plain_told[0].device().0, plain_told[0].device().1);
    assert_eq!(user_dev, plain_meta.dev());
    // One file, two mappings: one key. Two files: two keys, one mount.
    let (a, b) = (plain_told[0].path_key, other_told[0].path_key);
    assert_eq!(plain_told[1].path_key, a);
    assert_ne!(a, b);
    assert_eq!((a.mount, a.parent, a.hashed), (b.mount, b.parent, true));
    assert_ne!(a.name_hash_len, b.name_hash_len);
    // The deleted file: its dentry unhashed (maps says " (deleted)").
    let known = [plain_meta.ino(), other_meta.ino()];
    let deleted: Vec<_> = told.iter().filter(|m| !known.contains(&m.inode)).collect();
    assert!(deleted.iter().any(|m| !m.path_key.hashed), "{told:?}");
}

#[test]
fn a_rename_changes_the_path_key() {
    let Some(program) = program() else { return };
    let mounts = Mounts::new("rename");
    let first = mounts.base.join("first name");
    let second = mounts.base.join("second name");
    std::fs::write(&first, [3u8; 4096]).expect("file");
    let inode = std::fs::metadata(&first).expect("stat").ino();
    let mapper = Mapper::start(&[(&first, 0)], None);
    let key = || {
        let told = program.files_of(mapper.pid()).expect("mappings").mappings;
        told.iter()
            .find(|m| m.inode == inode)
            .expect("mapped")
            .path_key
    };
    let before = key();
    std::fs::rename(&first, &second).expect("rename");
    let renamed = key();
    assert_ne!(renamed, before);
    assert_eq!(renamed.dentry, before.dentry);
    std::fs::rename(&second, &first).expect("rename back");
    assert_eq!(key(), before);
}

/// Told as maps tells it: before Linux 6.8 by the real file's inode and
/// the overlay's path (what the mapped file holds), since by the
/// overlay's path and inode (kept in the backing file around the real
/// file).
#[test]
fn a_mapping_through_overlayfs_is_told_as_maps_tells_it() {
    let Some(program) = program() else { return };
    let Some((_mounts, through_overlay)) = Mounts::new("overlay").with_overlay("lib.so") else {
        return;
    };
    let mapper = Mapper::start(&[(&through_overlay, 0)], None);
    let maps = String::from_utf8_lossy(
        &std::fs::read(format!("/proc/{}/maps", mapper.pid())).expect("maps"),
    )
    .into_owned();
    assert!(maps.contains(&*through_overlay.to_string_lossy()), "{maps}");
    let told = program.files_of(mapper.pid()).expect("told");
    let told: Vec<_> = told.mappings.iter().map(as_maps).collect();
    let line = maps
        .lines()
        .find(|l| l.ends_with(&*through_overlay.to_string_lossy()))
        .expect("the overlay's line");
    let start = u64::from_str_radix(line.split('-').next().expect("start"), 16).expect("hex");
    let in_maps = from_maps(mapper.pid());
    let expected = in_maps.iter().find(|m| m.0 == start).expect("in maps");
    assert!(told.contains(expected), "{told:?}\n{line}");
}

#[test]
fn tells_our_working_directory_root_and_executable_as_stat_does() {
    let Some(program) = program() else { return };
    let ours = program.files_of(std::process::id() as i32).expect("ours");
    let task = ours.task.expect("not exiting");
    let mut compared = 0;
    for (link, node) in [("cwd", task.cwd), ("root", task.root), ("exe", task.exe)] {
        let node = node.unwrap_or_else(|| panic!("no {link}"));
        // A file system's root dentry is never hashed (and not deleted).
        let is_root = node.path_key.parent == node.path_key.dentry;
        assert!(node.path_key.hashed || is_root, "{link}");
        // Where stat gives the inode's own fields (not an overlay's, a
        // network file system's: the VMs' root).
        let Some(told) = node.generic_stat() else {
            continue;
        };
        let st = std::fs::metadata(format!("/proc/self/{link}")).expect("stat");
        assert_eq!((told.st_dev, told.st_ino), (st.dev(), st.ino()), "{link}");
        assert_eq!(told.st_mode, st.mode(), "{link}");
        assert_eq!(told.st_nlink, st.nlink(), "{link}");
        assert_eq!(told.st_size, st.size() as i64, "{link}");
        compared += 1;
    }
    eprintln!("{compared} of cwd, root and exe compared with stat");
}

#[test]
fn a_removed_working_directory_is_unhashed() {
    let Some(program) = program() else { return };
    let mounts = Mounts::new("cwd");
    let dir = mounts.base.join("gone dir");
    std::fs::create_dir(&dir).expect("dir");
    let inode = std::fs::metadata(&dir).expect("stat").ino();
    let mut child = std::process::Command::new("sh")
        .args([
            "-c",
            "cd \"$1\" && rmdir \"$1\" && echo ready && exec sleep 60",
            "sh",
        ])
        .arg(&dir)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sh");
    let mut line = String::new();
    let out = child.stdout.take().expect("stdout");
    std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line).expect("ready");
    let told = program.files_of(child.id() as i32).expect("told");
    let _ = child.kill();
    let _ = child.wait();
    let cwd = told.task.expect("task").cwd.expect("cwd");
    assert_eq!(cwd.inode, inode);
    assert!(!cwd.path_key.hashed);
}
