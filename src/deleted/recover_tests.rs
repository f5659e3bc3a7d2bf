use super::*;
use std::io::Write;

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rlsof-recover-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn source(link: &Path) -> Source {
    Source {
        pid: std::process::id() as i32,
        what: "test file".into(),
        link: link.to_path_buf(),
    }
}

fn copy(
    src: &Path,
    dir: &Path,
    target: Target,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Copied, RecoverError> {
    plan(&source(src), dir, target, true)?.copy(&Interrupts::none(), progress)
}

#[test]
fn a_growing_file_is_copied_to_its_starting_size() {
    let dir = temp_dir("grow");
    let path = dir.join("live.log");
    const LEN: usize = 3 * (1 << 20) + 10;
    std::fs::write(&path, vec![b'a'; LEN]).unwrap();
    let mut appender = OpenOptions::new().append(true).open(&path).unwrap();
    let dest = dir.join("copy");
    let mut grow = |_copied: u64, _total: u64| {
        appender.write_all(b"more").unwrap();
    };
    let copied = copy(&path, &dir, Target::Given(&dest), &mut grow).unwrap();
    assert_eq!(copied.length, LEN as u64);
    assert!(copied.size_now > LEN as u64);
    assert_eq!(std::fs::read(&dest).unwrap(), vec![b'a'; LEN]);
    let meta = std::fs::metadata(&dest).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let text = describe_copy(&source(&path), &dest, &copied);
    assert!(text.contains("grew to"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_existing_destination_is_left_alone() {
    let dir = temp_dir("exists");
    let path = dir.join("src");
    std::fs::write(&path, b"new").unwrap();
    let dest = dir.join("dest");
    std::fs::write(&dest, b"keep me").unwrap();
    let err = copy(&path, &dir, Target::Given(&dest), &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, RecoverError::DestinationExists(_)), "{err}");
    assert_eq!(std::fs::read(&dest).unwrap(), b"keep me");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_directory_target_gets_the_original_name() {
    let dir = temp_dir("into");
    let path = dir.join("app.log");
    std::fs::write(&path, b"log").unwrap();
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    copy(&path, &dir, Target::Given(&out), &mut |_, _| {}).unwrap();
    assert_eq!(std::fs::read(out.join("app.log")).unwrap(), b"log");
    let again = copy(&path, &dir, Target::Given(&out), &mut |_, _| {}).unwrap_err();
    assert!(
        matches!(again, RecoverError::DestinationExists(_)),
        "{again}"
    );
    let slash = dir.join("missing/");
    let err = copy(&path, &dir, Target::Given(&slash), &mut |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("no such directory"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_same_filesystem_needs_force() {
    let dir = temp_dir("samefs");
    let path = dir.join("src");
    std::fs::write(&path, b"x").unwrap();
    let dest = dir.join("dest");
    let err = plan(&source(&path), &dir, Target::Given(&dest), false).unwrap_err();
    assert!(matches!(err, RecoverError::SameFilesystem(_)), "{err}");
    assert!(err.to_string().contains("--force"), "{err}");
    let forced = plan(&source(&path), &dir, Target::Given(&dest), true).unwrap();
    assert_eq!(forced.warnings.len(), 1);
    assert!(!dest.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_interrupted_copy_leaves_nothing() {
    let dir = temp_dir("stop");
    let path = dir.join("src");
    std::fs::write(&path, vec![1u8; 3 << 20]).unwrap();
    let dest = dir.join("dest");
    let stop = Interrupts::none();
    let ready = plan(&source(&path), &dir, Target::Given(&dest), true).unwrap();
    let err = ready
        .copy(&stop, &mut |_, _| stop.raise(libc::SIGTERM))
        .unwrap_err();
    assert!(err.to_string().contains("interrupted by SIGTERM"), "{err}");
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    assert_eq!(names.len(), 1, "only the source is left");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn directories_are_refused() {
    let dir = temp_dir("dir");
    let err = copy(&dir, &dir, Target::Exact(&dir.join("d")), &mut |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
    assert!(!dir.join("d").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn base_names() {
    assert_eq!(
        original_base_name(b"/var/log/a.log (deleted)"),
        PathBuf::from("a.log")
    );
    assert_eq!(original_base_name(b"/"), PathBuf::from("deleted"));
    assert_eq!(
        original_base_name(b"/memfd:x (deleted)"),
        PathBuf::from("memfd:x")
    );
}
