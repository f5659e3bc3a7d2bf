//! lsof's option grammar (its `GetOpt`): `-` or `+` starts a cluster of
//! option letters; a letter that may take a value takes the rest of the
//! cluster, or else the next argument (never a lone `--`). The option then
//! decides whether the value really is one: it may refuse it whole, so the
//! value is read again as options (`-i -p 1`), or keep only a leading part
//! (`-o3t` is `-o3 -t`). `--`, `++`, a lone `-`/`+` or any argument not
//! starting with `-`/`+` ends the options; the rest are names.

use super::flags::{self, FlagDef};

/// One step of the scan.
#[derive(Debug)]
pub(super) enum Token<'a> {
    /// An option letter of the table, with its prefix (`b'-'`/`b'+'`) and
    /// its possible value.
    Flag {
        def: &'static FlagDef,
        prefix: u8,
        value: Option<&'a [u8]>,
    },
    /// A letter that is no option; `letter` is `:` for lsof's colon message.
    Illegal { letter: u8 },
    /// An rlsof long option (`--deleted`, `--to=x`), with a value written
    /// after `=`.
    Long {
        name: &'a [u8],
        inline_value: Option<&'a [u8]>,
    },
    /// `--word` that is no long option: a misspelt one (`--delted`), not
    /// lsof's letters `-d -e -l ...` (which lsof refuses anyway, at `-`).
    UnknownLong { name: &'a [u8] },
    /// Options are over; names start at `Tokenizer::names_start`.
    End,
}

pub(super) struct Tokenizer<'a> {
    args: &'a [Vec<u8>],
    /// The argument being read.
    index: usize,
    /// The byte of `args[index]` to read next; 0: a new argument starts.
    pos: usize,
    prefix: u8,
    /// Where the last possible value started, to read it again if refused.
    value_at: (usize, usize),
}

impl<'a> Tokenizer<'a> {
    pub(super) fn new(args: &'a [Vec<u8>]) -> Tokenizer<'a> {
        Tokenizer {
            args,
            index: 0,
            pos: 0,
            prefix: b'-',
            value_at: (0, 0),
        }
    }

    pub(super) fn next_token(&mut self) -> Token<'a> {
        let args = self.args;
        if self.pos == 0 {
            let Some(arg) = args.get(self.index) else {
                return Token::End;
            };
            if arg.len() < 2 || (arg[0] != b'-' && arg[0] != b'+') {
                return Token::End;
            }
            if arg.as_slice() == b"--" || arg.as_slice() == b"++" {
                self.index += 1;
                return Token::End;
            }
            if let Some(token) = self.long_option(arg) {
                self.index += 1;
                return token;
            }
            self.prefix = arg[0];
            self.pos = 1;
        }
        let arg = &args[self.index];
        let letter = arg[self.pos];
        let def = flags::find(letter);
        let Some(def) = def.filter(|_| letter != b':') else {
            self.step();
            return Token::Illegal { letter };
        };
        if !def.takes_value {
            self.step();
            return Token::Flag {
                def,
                prefix: self.prefix,
                value: None,
            };
        }
        let value = if self.pos + 1 < arg.len() {
            self.value_at = (self.index, self.pos + 1);
            self.index += 1;
            Some(&arg[self.value_at.1..])
        } else {
            self.index += 1;
            match args.get(self.index) {
                Some(next) if next.as_slice() != b"--" => {
                    self.value_at = (self.index, 0);
                    self.index += 1;
                    Some(next.as_slice())
                }
                _ => None,
            }
        };
        self.pos = 0;
        Token::Flag {
            def,
            prefix: self.prefix,
            value,
        }
    }

    /// The option did not want its value: read it again as options.
    pub(super) fn refuse_value(&mut self) {
        self.keep_value_prefix(0);
    }

    /// The option used the first `used` bytes of its value; read the rest
    /// again as option letters (with the same prefix). When the value was a
    /// separate argument and `used` is 0, that argument is read anew.
    pub(super) fn keep_value_prefix(&mut self, used: usize) {
        self.index = self.value_at.0;
        self.pos = self.value_at.1 + used;
    }

    /// The next whole argument, for a long option's value.
    pub(super) fn take_argument(&mut self) -> Option<&'a [u8]> {
        let arg = self.args.get(self.index)?;
        self.index += 1;
        Some(arg.as_slice())
    }

    /// Index of the first name, once `next_token` returned `End`.
    pub(super) fn names_start(&self) -> usize {
        self.index
    }

    fn step(&mut self) {
        self.pos += 1;
        if self.pos >= self.args[self.index].len() {
            self.pos = 0;
            self.index += 1;
        }
    }

    fn long_option(&self, arg: &'a [u8]) -> Option<Token<'a>> {
        let body = arg.strip_prefix(b"--")?;
        let (name, inline_value) = match body.iter().position(|&b| b == b'=') {
            Some(eq) => (&body[..eq], Some(&body[eq + 1..])),
            None => (body, None),
        };
        if flags::find_long(name).is_some() {
            return Some(Token::Long { name, inline_value });
        }
        // Every `--X...` is an error for lsof (`-` is no option letter);
        // from two letters on it reads as a word, so rlsof names it. `--x`
        // and `--2` keep lsof's letter-by-letter messages.
        let word = name.len() >= 2 && name[..2].iter().all(u8::is_ascii_alphabetic);
        word.then_some(Token::UnknownLong { name })
    }
}
