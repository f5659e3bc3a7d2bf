//! Telling a process from a later one that reuses its PID: the start
//! time the kernel gives (`/proc/PID/stat` field 22, clock ticks since
//! boot), and the clock it is counted on.

use std::path::Path;

/// The start time of `pid` in clock ticks since boot; None when it is gone
/// or a zombie (its files are closed then).
pub(super) fn start_time(proc_root: &Path, pid: i32) -> Option<u64> {
    let line = std::fs::read(proc_root.join(pid.to_string()).join("stat")).ok()?;
    let close = line.iter().rposition(|&c| c == b')')?;
    let rest = std::str::from_utf8(&line[close + 1..]).ok()?;
    let mut fields = rest.split_ascii_whitespace();
    // The fields after the command start with the 3rd, the state.
    if fields.next()? == "Z" {
        return None;
    }
    fields.nth(22 - 4)?.parse().ok()
}

/// Now, in the clock ticks of `start_time`.
pub(super) fn now_ticks() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes only into `ts`; sysconf has no preconditions.
    let (ok, hz) = unsafe {
        (
            libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) == 0,
            libc::sysconf(libc::_SC_CLK_TCK),
        )
    };
    if !ok || hz <= 0 {
        return 0;
    }
    let hz = hz as u64;
    (ts.tv_sec as u64) * hz + (ts.tv_nsec as u64) * hz / 1_000_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_started_before_now() {
        let root = Path::new("/proc");
        let started = start_time(root, std::process::id() as i32).expect("own stat");
        assert!(started <= now_ticks());
        assert_eq!(start_time(root, -5), None);
    }
}
