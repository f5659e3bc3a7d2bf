//! stderr text gathered while resolving selections, lsof's way: each line
//! starts with the program name; warnings are dropped under `-w`.

use crate::escape::safe_text;

#[derive(Debug, Default)]
pub struct Messages {
    /// The name each line starts with (how rlsof was called).
    program: String,
    warnings: bool,
    text: String,
}

impl Messages {
    pub fn new(program: &str, warnings: bool) -> Messages {
        Messages {
            program: program.to_string(),
            warnings,
            text: String::new(),
        }
    }

    /// A line printed whatever `-w` says.
    pub fn error(&mut self, line: String) {
        self.text.push_str(&self.program);
        self.text.push_str(": ");
        self.text.push_str(&line);
        self.text.push('\n');
    }

    /// A line printed unless `-w`.
    pub fn warn(&mut self, line: String) {
        if self.warnings {
            self.error(line);
        }
    }

    /// Text added as is, unless `-w`.
    pub fn warn_raw(&mut self, text: &str) {
        if self.warnings {
            self.text.push_str(text);
        }
    }

    /// A path or name as lsof prints it in messages.
    pub fn shown(&self, bytes: &[u8]) -> String {
        safe_text(bytes, false)
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Takes the gathered text, leaving none.
    pub fn take(&mut self) -> String {
        std::mem::take(&mut self.text)
    }
}
