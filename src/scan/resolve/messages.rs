//! stderr text gathered while resolving selections, lsof's way: each line
//! starts with the program name; warnings are dropped under `-w`.

use crate::escape::safe_text;

#[derive(Debug, Default)]
pub(crate) struct Messages {
    /// The name each line starts with (how rlsof was called).
    program: String,
    warnings: bool,
    text: String,
}

impl Messages {
    pub(crate) fn new(program: &str, warnings: bool) -> Messages {
        Messages {
            program: program.to_string(),
            warnings,
            text: String::new(),
        }
    }

    /// A line printed whatever `-w` says.
    pub(crate) fn error(&mut self, line: String) {
        self.text.push_str(&self.program);
        self.text.push_str(": ");
        self.text.push_str(&line);
        self.text.push('\n');
    }

    /// A line printed unless `-w`.
    pub(crate) fn warn(&mut self, line: String) {
        if self.warnings {
            self.error(line);
        }
    }

    /// Text added as is, unless `-w`.
    pub(crate) fn warn_raw(&mut self, text: &str) {
        if self.warnings {
            self.text.push_str(text);
        }
    }

    /// A path or name as lsof prints it in messages.
    pub(crate) fn shown(&self, bytes: &[u8]) -> String {
        safe_text(bytes, false)
    }

    #[cfg(test)]
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Takes the gathered text, leaving none.
    pub(crate) fn take(&mut self) -> String {
        std::mem::take(&mut self.text)
    }
}
