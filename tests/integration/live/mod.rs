//! The live views: `--changes` (changes.rs) and `--top` under tmux
//! (top.rs), on tests/fixture/churn.py.

mod changes;
mod support;
mod top;
