//! The scan on a fake /proc tree: odd command names, a process that
//! vanished between listing and reading, a kernel thread, mappings.

use rlsof::model::{FdName, FileType};
use rlsof::scan::{socket::NoSockets, Buffers, ScanConfig, Scanner};
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

struct FakeProc {
    root: PathBuf,
}

impl FakeProc {
    fn new(name: &str) -> FakeProc {
        let root = std::env::temp_dir().join(format!("rlsof-fake-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        FakeProc { root }
    }

    fn process(&self, pid: i32, stat: &str) -> PathBuf {
        let dir = self.root.join(pid.to_string());
        fs::create_dir_all(dir.join("fd")).unwrap();
        fs::create_dir_all(dir.join("fdinfo")).unwrap();
        fs::write(dir.join("stat"), stat).unwrap();
        fs::write(dir.join("maps"), "").unwrap();
        dir
    }

    fn scan(&self) -> Vec<rlsof::model::Process> {
        let cfg = ScanConfig {
            proc_root: self.root.clone(),
            ..Default::default()
        };
        let scanner = Scanner::new(cfg, Box::new(NoSockets)).unwrap();
        let mut bufs = Buffers::default();
        let mut out = Vec::new();
        for pid in scanner.pids().unwrap() {
            for (_, p) in scanner.scan_pid(pid, &mut bufs, &|_| Some(1)) {
                out.push(p);
            }
        }
        out
    }
}

impl Drop for FakeProc {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn data_file(root: &Path, name: &str, bytes: usize) -> PathBuf {
    let path = root.join(name);
    fs::write(&path, vec![b'x'; bytes]).unwrap();
    path
}

#[test]
fn command_with_parentheses_and_spaces() {
    let fake = FakeProc::new("parens");
    let dir = fake.process(10, "10 (my (odd) cmd) S 1 10 10 0 -1\n");
    symlink("/", dir.join("cwd")).unwrap();
    let procs = fake.scan();
    assert_eq!(procs.len(), 1);
    assert_eq!(procs[0].command, b"my (odd) cmd");
    assert_eq!((procs[0].ppid, procs[0].pgid), (1, 10));
}

#[test]
fn vanished_process_is_skipped() {
    let fake = FakeProc::new("vanished");
    fake.process(10, "10 (alive) S 1 10 10\n");
    // A directory whose stat file is gone: the process exited mid-scan.
    fs::create_dir_all(fake.root.join("11")).unwrap();
    let procs = fake.scan();
    let pids: Vec<i32> = procs.iter().map(|p| p.pid).collect();
    assert_eq!(pids, vec![10]);
}

#[test]
fn zombie_is_skipped() {
    let fake = FakeProc::new("zombie");
    fake.process(12, "12 (dead) Z 1 12 12\n");
    assert!(fake.scan().is_empty());
}

#[test]
fn kernel_thread_has_no_exe_note() {
    let fake = FakeProc::new("kthread");
    let dir = fake.process(2, "2 (kthreadd) S 0 0 0\n");
    symlink("/", dir.join("cwd")).unwrap();
    symlink("/", dir.join("root")).unwrap();
    let procs = fake.scan();
    let files = &procs[0].files;
    let txt = files.iter().find(|f| f.fd == Some(FdName::Txt)).unwrap();
    assert_eq!(txt.file_type, Some(FileType::Unknown));
    assert!(txt.name.ends_with(b"/2/exe"), "{:?}", txt.name);
    // Root-owned with no exe: lsof prints no readlink error (test runs as root).
    if unsafe { libc::geteuid() } == 0 {
        assert_eq!(txt.note, None);
    }
    let cwd = files.iter().find(|f| f.fd == Some(FdName::Cwd)).unwrap();
    assert_eq!(cwd.file_type, Some(FileType::Dir));
    assert_eq!(cwd.name, b"/");
}

#[test]
fn descriptors_in_order_with_offsets() {
    let fake = FakeProc::new("fds");
    let dir = fake.process(20, "20 (holder) S 1 20 20\n");
    let a = data_file(&fake.root, "a.txt", 5);
    symlink(&a, dir.join("fd").join("10")).unwrap();
    symlink(&a, dir.join("fd").join("3")).unwrap();
    symlink("/dev/null", dir.join("fd").join("0")).unwrap();
    fs::write(
        dir.join("fdinfo").join("0"),
        "pos:\t7\nflags:\t0100001\nmnt_id:\t1\n",
    )
    .unwrap();
    let procs = fake.scan();
    let files: Vec<_> = procs[0]
        .files
        .iter()
        .filter(|f| matches!(f.fd, Some(FdName::Num(_))))
        .collect();
    let fds: Vec<Option<FdName>> = files.iter().map(|f| f.fd).collect();
    assert_eq!(
        fds,
        vec![
            Some(FdName::Num(0)),
            Some(FdName::Num(3)),
            Some(FdName::Num(10))
        ]
    );
    let null = files[0];
    assert_eq!(null.file_type, Some(FileType::Chr));
    assert_eq!(null.offset, Some(7));
    assert_eq!(null.access, rlsof::model::Access::Write);
    let reg = files[1];
    assert_eq!(
        (reg.file_type.clone(), reg.size),
        (Some(FileType::Reg), Some(5))
    );
}

#[test]
fn mappings_once_each_and_deleted_ones_are_del() {
    let fake = FakeProc::new("maps");
    let dir = fake.process(30, "30 (mapper) S 1 30 30\n");
    let lib = data_file(&fake.root, "lib.so", 100);
    let md = fs::metadata(&lib).unwrap();
    use std::os::unix::fs::MetadataExt;
    let (maj, min) = (libc::major(md.dev()), libc::minor(md.dev()));
    let maps = format!(
        "1000-2000 r--p 00000000 {maj:02x}:{min:02x} {ino} {lib}\n\
         2000-3000 r-xp 00001000 {maj:02x}:{min:02x} {ino} {lib}\n\
         3000-4000 rw-p 00000000 00:00 0 [heap]\n\
         4000-5000 r--p 00000000 {maj:02x}:{min:02x} 999999999 /gone/file (deleted)\n",
        ino = md.ino(),
        lib = lib.display()
    );
    fs::write(dir.join("maps"), maps).unwrap();
    let procs = fake.scan();
    let mapped: Vec<_> = procs[0]
        .files
        .iter()
        .filter(|f| matches!(f.fd, Some(FdName::Mem | FdName::Del)))
        .collect();
    assert_eq!(mapped.len(), 2);
    assert_eq!(mapped[0].fd, Some(FdName::Mem));
    assert_eq!(mapped[0].size, Some(100));
    assert_eq!(mapped[1].fd, Some(FdName::Del));
    assert_eq!(mapped[1].name, b"/gone/file");
    assert_eq!(mapped[1].inode, Some(999999999));
}

#[test]
fn unreadable_fd_directory_is_nofd() {
    let fake = FakeProc::new("nofd");
    let dir = fake.process(40, "40 (secret) S 1 40 40\n");
    fs::remove_dir(dir.join("fd")).unwrap();
    fs::write(dir.join("fd"), "not a directory").unwrap();
    let procs = fake.scan();
    let nofd = procs[0]
        .files
        .iter()
        .find(|f| f.fd == Some(FdName::NoFd))
        .unwrap();
    let name = String::from_utf8_lossy(&nofd.name);
    assert!(
        name.ends_with("/40/fd (opendir: Not a directory)"),
        "{name}"
    );
}
