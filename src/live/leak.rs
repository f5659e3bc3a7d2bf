//! Leak detection: a process whose descriptor count grew in each of the
//! last K cycles.

use std::collections::{HashMap, VecDeque};

/// Descriptor counts per process over the last K+1 cycles.
pub(super) struct LeakWatch {
    cycles: usize,
    counts: HashMap<(i32, u64), VecDeque<usize>>,
}

impl LeakWatch {
    /// `cycles`: K, how many growths in a row make a leak.
    pub(super) fn new(cycles: u32) -> LeakWatch {
        LeakWatch {
            cycles: cycles.max(1) as usize,
            counts: HashMap::new(),
        }
    }

    /// Records this cycle's count for a process (PID and start time).
    /// Some(counts over the last K+1 cycles) when each grew on the one
    /// before.
    pub(super) fn record(&mut self, process: (i32, u64), count: usize) -> Option<Vec<usize>> {
        let history = self.counts.entry(process).or_default();
        history.push_back(count);
        while history.len() > self.cycles + 1 {
            history.pop_front();
        }
        let grew = history.len() == self.cycles + 1
            && history
                .iter()
                .zip(history.iter().skip(1))
                .all(|(a, b)| b > a);
        grew.then(|| history.iter().copied().collect())
    }

    /// Forgets processes not seen this cycle (`seen` says which were).
    pub(super) fn keep_only(&mut self, seen: impl Fn(&(i32, u64)) -> bool) {
        self.counts.retain(|k, _| seen(k));
    }
}

#[cfg(test)]
mod tests {
    use super::LeakWatch;

    #[test]
    fn growth_in_each_of_k_cycles_is_a_leak() {
        let mut watch = LeakWatch::new(3);
        let p = (10, 1);
        assert_eq!(watch.record(p, 5), None);
        assert_eq!(watch.record(p, 6), None);
        assert_eq!(watch.record(p, 7), None);
        assert_eq!(watch.record(p, 9), Some(vec![5, 6, 7, 9]));
        assert_eq!(watch.record(p, 10), Some(vec![6, 7, 9, 10]));
        // A cycle without growth ends it.
        assert_eq!(watch.record(p, 10), None);
        watch.keep_only(|_| false);
        assert_eq!(watch.record(p, 11), None);
    }
}
