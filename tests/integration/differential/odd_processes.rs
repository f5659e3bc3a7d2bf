//! Processes of odd shapes, each started here by a few lines of python: an
//! empty command name, namespace files held open. Each is looked at as
//! root on both paths (as is and `RLSOF_NO_BPF=1`) and as user nobody.

use crate::common::{
    assert_same_as_lsof, paths, report, require_lsof, require_root, rlsof, run, run_with_env,
    Output, LSOF,
};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub const NOBODY: &str = "65534";

/// A python process running `setup` (as nobody when asked), holding what
/// it made until dropped.
pub struct Holder {
    child: Child,
    pub pid: String,
}

impl Holder {
    pub fn start(setup: &str, as_nobody: bool) -> Holder {
        let script = format!(
            "import ctypes, os, sys\n{setup}\nprint(os.getpid(), flush=True)\nsys.stdin.read()\n"
        );
        let mut command = if as_nobody {
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid",
                NOBODY,
                "--regid",
                NOBODY,
                "--clear-groups",
                "/usr/bin/python3",
            ]);
            c
        } else {
            Command::new("python3")
        };
        let mut child = command
            .args(["-c", &script])
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start python3");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("holder's stdout");
        let _ = BufReader::new(stdout).read_line(&mut line);
        let pid = line.trim().to_string();
        assert!(!pid.is_empty(), "the holder did not start: {setup}");
        Holder { child, pid }
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `program args` as user nobody.
pub fn run_as_nobody(program: &std::path::Path, args: &[&str]) -> Output {
    let program = runnable_by_nobody(program);
    let mut all = vec!["--reuid", NOBODY, "--regid", NOBODY, "--clear-groups"];
    let program = program.to_string_lossy();
    all.push(&program);
    all.extend_from_slice(args);
    run("setpriv", &all)
}

/// `program`, or where nobody cannot reach it (a checkout under /root), a
/// copy of the same name in a directory of this test process's own under
/// the system's temporary directory.
fn runnable_by_nobody(program: &std::path::Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let text = program.to_string_lossy().into_owned();
    let reached = run(
        "setpriv",
        &[
            "--reuid",
            NOBODY,
            "--regid",
            NOBODY,
            "--clear-groups",
            "test",
            "-x",
            &text,
        ],
    );
    if reached.status == "exit 0" {
        return program.to_path_buf();
    }
    let dir = std::env::temp_dir().join(format!("rlsof-nobody-{}", std::process::id()));
    let copy = dir.join(program.file_name().expect("a program's name"));
    if !copy.exists() {
        std::fs::create_dir_all(&dir).expect("directory for nobody's copy");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let fresh = dir.join(format!("copying-{:?}", std::thread::current().id()));
        std::fs::copy(program, &fresh).expect("copy for nobody");
        std::fs::rename(&fresh, &copy).expect("copy for nobody");
    }
    copy
}

/// rlsof's output for `args` on both root paths and as nobody, which must
/// agree; returns it. Tried again (three times in all) when they differ:
/// other tests mount and unmount file systems meanwhile, which changes
/// lsof's warnings.
pub fn same_on_every_path(args: &[&str]) -> Output {
    let mut last = String::new();
    for _ in 0..3 {
        let first = run(rlsof(), args);
        let mut others: Vec<(String, Output)> = paths()[1..]
            .iter()
            .map(|path| (path.name.to_string(), run_with_env(rlsof(), args, path.env)))
            .collect();
        others.push(("as nobody".to_string(), run_as_nobody(&rlsof(), args)));
        if others.iter().all(|(_, other)| *other == first) {
            return first;
        }
        last = others
            .iter()
            .map(|(name, other)| report(args, &first, other, name))
            .collect();
    }
    panic!("{last}");
}

/// lsof and rlsof agree on `args` as root (both paths) and as nobody.
pub fn same_as_lsof_everywhere(args: &[&str]) -> Output {
    // As root, on every path of `paths()`.
    let output = assert_same_as_lsof(args);
    let mut last = String::new();
    for _ in 0..3 {
        let lsof = run_as_nobody(std::path::Path::new(LSOF), args);
        let ours = run_as_nobody(&rlsof(), args);
        if lsof == ours {
            return output;
        }
        last = report(args, &lsof, &ours, "rlsof as nobody");
    }
    panic!("{last}");
}

const EMPTY_NAME: &str = "ctypes.CDLL(None).prctl(15, b'', 0, 0, 0)\nheld = open('/etc/hostname')";

/// An empty command name (`prctl(PR_SET_NAME, "")`) is printed empty in
/// the table, `-F` and JSON, as `+E` and `-c /^$/` see it (lsof 4.95
/// prints a stale name: DIVERGENCES.md).
#[test]
fn empty_command_name_is_printed_empty() {
    if !require_root() {
        return;
    }
    let holder = Holder::start(EMPTY_NAME, true);
    let pid = holder.pid.as_str();
    let table = same_on_every_path(&["-p", pid]);
    let text = String::from_utf8_lossy(&table.stdout);
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert!(rows.iter().any(|r| r.ends_with(" /etc/hostname")), "{text}");
    for row in &rows {
        assert!(row.starts_with(' '), "a command where none is: {row:?}");
        assert_eq!(row.split_whitespace().next(), Some(pid), "{row:?}");
    }
    let fields = same_on_every_path(&["-Fpc", "-p", pid]);
    assert_eq!(fields.stdout, format!("p{pid}\nc\n").into_bytes());
    let json = String::from_utf8_lossy(&same_on_every_path(&["-J", "-p", pid]).stdout).into_owned();
    assert!(json.contains("\"command\":\"\""), "{json}");
    let by_regex = same_on_every_path(&["-t", "-a", "-p", pid, "-c", "/^$/"]);
    assert_eq!(
        (by_regex.stdout, by_regex.status),
        (format!("{pid}\n").into_bytes(), "exit 0".into())
    );
    let by_unknown = same_on_every_path(&["-t", "-a", "-p", pid, "-c", "(unknown)"]);
    assert_eq!(
        (by_unknown.stdout.len(), by_unknown.status),
        (0, "exit 1".into())
    );
    if require_lsof() {
        // lsof agrees once the command column is set aside.
        let lsof = run(LSOF, &["-Fpfn", "-p", pid]);
        assert_eq!(lsof, same_on_every_path(&["-Fpfn", "-p", pid]));
    }
}

const NAMESPACE_FILES: &str = "held = [os.open('/proc/self/ns/' + n, os.O_RDONLY) for n in ('net', 'user', 'mnt', 'uts', 'ipc', 'cgroup', 'pid_for_children')]";

/// Namespace files held open: NAME is the namespace's kind (`net`,
/// `user`), as lsof cuts a link text that is no path at its colon, with the
/// namespace's inode in NODE; the same as lsof on every path.
#[test]
fn namespace_files_are_named_as_lsof_names_them() {
    if !require_lsof() || !require_root() {
        return;
    }
    let holder = Holder::start(NAMESPACE_FILES, true);
    let pid = holder.pid.as_str();
    let table = same_as_lsof_everywhere(&["-a", "-p", pid, "-d", "3-20"]);
    let text = String::from_utf8_lossy(&table.stdout);
    for kind in ["net", "user", "mnt", "uts", "ipc", "cgroup", "pid"] {
        assert!(
            text.contains(&format!(" {kind}\n")),
            "{kind} missing:\n{text}"
        );
    }
    same_as_lsof_everywhere(&["-a", "-p", pid, "-d", "3-20", "-F"]);
}

/// `program args` in a mount namespace of its own where a tmpfs is
/// mounted at `point` (under a directory only root may search), as nobody
/// or as root; other tests, running meanwhile, never see that mount.
fn run_with_hidden_mount(
    point: &std::path::Path,
    program: &std::path::Path,
    args: &[&str],
    as_nobody: bool,
    env: &[(&str, &str)],
) -> Output {
    let point = point.to_string_lossy();
    let program = program.to_string_lossy();
    let mut all = vec![
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        "mount -t tmpfs rlsof-hidden \"$0\" && exec \"$@\"",
        &point,
    ];
    if as_nobody {
        all.extend([
            "setpriv",
            "--reuid",
            NOBODY,
            "--regid",
            NOBODY,
            "--clear-groups",
        ]);
    }
    all.push(&program);
    all.extend_from_slice(args);
    run_with_env("unshare", &all, env)
}

/// A mount the user cannot stat (a tmpfs under a 0700 directory): lsof's
/// warning and `Output information may be incomplete.` on stderr, unless
/// `-w` (or `-t`); as nobody, and as root (who can stat it: no warning) on
/// both paths.
#[test]
fn a_mount_the_user_cannot_stat_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    if !require_lsof() || !require_root() {
        return;
    }
    let parent = std::env::temp_dir().join(format!("rlsof-hidden-{}", std::process::id()));
    let point = parent.join("mnt");
    std::fs::create_dir_all(&point).expect("mount point");
    std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let holder = Holder::start("", true);
    let pid = holder.pid.as_str();
    let warning = format!(
        "lsof: WARNING: can't stat() tmpfs file system {}\n      Output information may be incomplete.\n",
        point.display()
    );
    let lsof = std::path::Path::new(LSOF);
    for quiet in [None, Some("-w"), Some("-t")] {
        let args: Vec<&str> = quiet
            .into_iter()
            .chain(["-a", "-p", pid, "-d", "cwd"])
            .collect();
        let root_paths = paths().iter().map(|path| (false, path.env));
        for (as_nobody, env) in [(true, &[][..])].into_iter().chain(root_paths) {
            let who = if as_nobody {
                "rlsof as nobody"
            } else {
                "rlsof as root"
            };
            let compare = || {
                let theirs = run_with_hidden_mount(&point, lsof, &args, as_nobody, &[]);
                let ours = run_with_hidden_mount(&point, &rlsof(), &args, as_nobody, env);
                if theirs == ours {
                    Ok(ours)
                } else {
                    Err(report(&args, &theirs, &ours, who))
                }
            };
            // Other tests' mounts come and go (their warnings with them):
            // three tries in all.
            let ours = compare()
                .or_else(|_| compare())
                .or_else(|_| compare())
                .unwrap_or_else(|differences| panic!("{env:?} {differences}"));
            let warned = String::from_utf8_lossy(&ours.stderr).contains(&warning);
            assert_eq!(
                warned,
                as_nobody && quiet.is_none(),
                "{args:?} {who}: {ours:?}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&parent);
}

/// A process (user nobody) in a mount namespace of its own, mapping a file
/// on a tmpfs mounted only there; killed when dropped.
struct InOwnMountNamespace {
    holder: Holder,
    dir: std::path::PathBuf,
}

impl InOwnMountNamespace {
    fn start() -> InOwnMountNamespace {
        let dir = std::env::temp_dir().join(format!("rlsof-mntns-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mount point");
        let script = "import mmap, os, sys\n\
            f = open(sys.argv[1], 'rb')\n\
            m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)\n\
            f.close()\n\
            print(os.getpid(), flush=True)\n\
            sys.stdin.read()\n";
        let shell = format!(
            "mount -t tmpfs rlsof-mntns \"$0\" && head -c 10000 /dev/zero > \"$0/mapped.bin\" && \
             exec setpriv --reuid {NOBODY} --regid {NOBODY} --clear-groups /usr/bin/python3 -c \"$1\" \"$0/mapped.bin\""
        );
        let mut child = Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &shell])
            .arg(&dir)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start unshare");
        let mut line = String::new();
        let _ = BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line);
        let pid = line.trim().to_string();
        let holder = Holder { child, pid };
        assert!(!holder.pid.is_empty(), "the holder did not start");
        InOwnMountNamespace { holder, dir }
    }
}

impl Drop for InOwnMountNamespace {
    fn drop(&mut self) {
        let _ = self.holder.child.kill();
        let _ = self.holder.child.wait();
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// A mapping in another mount namespace gets its real device, inode and
/// size through `/proc/PID/map_files/` where the kernel allows it (root,
/// both paths), where lsof 4.95 says `(stat: No such file or directory)`
/// (DIVERGENCES.md); as nobody, who may not follow those links, rlsof's
/// answer is lsof's.
#[test]
fn mapping_in_another_mount_namespace_is_stated_through_map_files() {
    if !require_lsof() || !require_root() {
        return;
    }
    let process = InOwnMountNamespace::start();
    let pid = process.holder.pid.as_str();
    let args = ["-a", "-p", pid, "-d", "mem"];
    let mapped = format!("{}/mapped.bin", process.dir.display());
    let row_of = |out: &Output| {
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines()
            .find(|l| l.contains(&mapped))
            .unwrap_or_else(|| panic!("no row for {mapped}:\n{text}"))
            .to_string()
    };
    let lsof_row = row_of(&run(LSOF, &args));
    assert!(lsof_row.ends_with(" (stat: No such file or directory)"));
    // lsof's device and inode, from the maps line; no size.
    let lsof_words: Vec<&str> = lsof_row.split_whitespace().collect();
    for env in paths().iter().map(|path| path.env) {
        let row = row_of(&run_with_env(rlsof(), &args, env));
        let words: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(words.last(), Some(&mapped.as_str()), "{env:?}: {row}");
        assert_eq!(&words[3..5], ["mem", "REG"], "{env:?}: {row}");
        assert_eq!(words[5], lsof_words[5], "device, {env:?}: {row}");
        assert_eq!(words[6], "10000", "size, {env:?}: {row}");
        assert_eq!(words[7], lsof_words[6], "inode, {env:?}: {row}");
    }
    let theirs = run_as_nobody(std::path::Path::new(LSOF), &args);
    let ours = run_as_nobody(&rlsof(), &args);
    assert_eq!(
        theirs,
        ours,
        "{}",
        report(&args, &theirs, &ours, "rlsof as nobody")
    );
    assert!(row_of(&ours).ends_with(" (stat: No such file or directory)"));
}
