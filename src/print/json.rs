//! placeholder
use super::{Printer, Render};
use crate::model::Process;
use std::io::{self, Write};
pub struct JsonPrinter<'a, W: Write> {
    render: Render<'a>,
    lines: bool,
    out: W,
}
impl<'a, W: Write> JsonPrinter<'a, W> {
    pub fn new(render: Render<'a>, lines: bool, out: W) -> Self {
        JsonPrinter { render, lines, out }
    }
}
impl<W: Write> Printer for JsonPrinter<'_, W> {
    fn process(&mut self, _p: &Process) -> io::Result<()> {
        let _ = (&self.render, self.lines);
        Ok(())
    }
    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
