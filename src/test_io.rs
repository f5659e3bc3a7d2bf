//! Readers for tests of code that reads a stream in pieces.

use std::io::{self, Read};

/// A reader that gives at most `step` bytes a call, so that every way a
/// text can be cut between reads is tried.
pub(crate) struct Trickle<'a> {
    pub text: &'a [u8],
    pub step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(out.len()).min(self.text.len());
        out[..n].copy_from_slice(&self.text[..n]);
        self.text = &self.text[n..];
        Ok(n)
    }
}
