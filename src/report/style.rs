//! Terminal styles: ANSI codes when writing to a terminal and `NO_COLOR` is unset, else empty
//! strings (so output piped to a file or a test is plain text).

use std::io::IsTerminal;

#[derive(Debug, Clone, Copy)]
pub struct Styles {
    pub bold: &'static str,
    pub dim: &'static str,
    pub good: &'static str,
    pub bad: &'static str,
    pub warn: &'static str,
    pub reset: &'static str,
}

impl Styles {
    pub const PLAIN: Styles = Styles {
        bold: "",
        dim: "",
        good: "",
        bad: "",
        warn: "",
        reset: "",
    };
    pub const ANSI: Styles = Styles {
        bold: "\x1b[1m",
        dim: "\x1b[2m",
        good: "\x1b[32m",
        bad: "\x1b[31m",
        warn: "\x1b[33m",
        reset: "\x1b[0m",
    };

    /// Colour only on a terminal, honouring `NO_COLOR` (https://no-color.org).
    pub fn for_stdout() -> Styles {
        Styles::detect(std::io::stdout().is_terminal())
    }

    pub fn for_stderr() -> Styles {
        Styles::detect(std::io::stderr().is_terminal())
    }

    fn detect(terminal: bool) -> Styles {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        if terminal && !no_color {
            Styles::ANSI
        } else {
            Styles::PLAIN
        }
    }

    pub fn enabled(&self) -> bool {
        !self.reset.is_empty()
    }
}
