//! `-d`: descriptors chosen by number, range or name (`cwd`, `mem`, `DEL`
//! ...). lsof keeps one list that is either all inclusions or all
//! exclusions (the parser refuses a mix).

use crate::cli::options::{FdSpec, Item};
use crate::model::FdName;

#[derive(Debug, Default)]
pub struct FdFilter {
    specs: Vec<FdSpec>,
    /// The list holds `^` items: a descriptor matches when none names it.
    excludes: bool,
}

impl FdFilter {
    pub fn new(items: &[Item<FdSpec>]) -> FdFilter {
        FdFilter {
            specs: items.iter().map(|i| i.value.clone()).collect(),
            excludes: items.first().is_some_and(|i| i.excluded),
        }
    }

    pub fn is_active(&self) -> bool {
        !self.specs.is_empty()
    }

    /// The lowest and highest descriptor number the list selects (low
    /// above high when it names no number); None when it selects by
    /// exclusion (`^`).
    pub fn number_bounds(&self) -> Option<(u32, u32)> {
        if self.excludes || !self.is_active() {
            return None;
        }
        let ranges = self.specs.iter().filter_map(|spec| match spec {
            FdSpec::Range(lo, hi) => Some((*lo, *hi)),
            FdSpec::Name(_) => None,
        });
        Some(ranges.fold((1, 0), |(low, high), (lo, hi)| {
            if low > high {
                (lo, hi)
            } else {
                (low.min(lo), high.max(hi))
            }
        }))
    }

    /// Whether the descriptor earns lsof's "selected by -d" flag. A file
    /// with no descriptor (lsof's empty FD) is never chosen by `-d`.
    pub fn selects(&self, fd: Option<FdName>) -> bool {
        let Some(fd) = fd else { return false };
        if !self.is_active() {
            return false;
        }
        let named = self.specs.iter().any(|spec| spec_names(spec, fd));
        named != self.excludes
    }
}

fn spec_names(spec: &FdSpec, fd: FdName) -> bool {
    match (spec, fd) {
        (FdSpec::Range(lo, hi), FdName::Num(n)) => *lo <= n && n <= *hi,
        (FdSpec::Range(..), _) => false,
        (FdSpec::Name(_), FdName::Num(_)) => false,
        (FdSpec::Name(name), other) => name.as_str() == other.label(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(specs: &[(FdSpec, bool)]) -> FdFilter {
        let items: Vec<Item<FdSpec>> = specs
            .iter()
            .map(|(v, x)| Item {
                value: v.clone(),
                excluded: *x,
            })
            .collect();
        FdFilter::new(&items)
    }

    #[test]
    fn inclusion_by_number_range_and_name() {
        let f = filter(&[
            (FdSpec::Range(0, 2), false),
            (FdSpec::Name("cwd".into()), false),
        ]);
        assert!(f.selects(Some(FdName::Num(1))));
        assert!(!f.selects(Some(FdName::Num(3))));
        assert!(f.selects(Some(FdName::Cwd)));
        assert!(!f.selects(Some(FdName::Txt)));
        assert!(!f.selects(None));
    }

    #[test]
    fn exclusion_list_selects_the_rest() {
        let f = filter(&[
            (FdSpec::Range(2, 2), true),
            (FdSpec::Name("DEL".into()), true),
        ]);
        assert!(!f.selects(Some(FdName::Num(2))));
        assert!(f.selects(Some(FdName::Num(0))));
        assert!(!f.selects(Some(FdName::Del)));
        assert!(f.selects(Some(FdName::Mem)));
        assert!(f.selects(Some(FdName::NoFd)));
    }

    #[test]
    fn a_number_never_matches_a_name() {
        let f = filter(&[(FdSpec::Name("12".into()), false)]);
        assert!(!f.selects(Some(FdName::Num(12))));
    }
}
