//! The interactive prompt (`bondd> `): line editing, history, and tab completion from the
//! command grammar. The same prompt drives a local appliance (`bondd run -i`) and a remote
//! one over the control socket (`bondd shell`).

use super::grammar::{self, Names};
use super::server::Reply;
use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper, history::DefaultHistory};
use std::io::Write;
use std::path::PathBuf;

/// The prompt string, as testpmd's `testpmd> `.
pub const PROMPT: &str = "bondd> ";

struct Complete {
    names: Names,
}

impl Completer for Complete {
    type Candidate = String;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let head = &line[..pos];
        let start = head.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        Ok((start, grammar::complete(head, &self.names)))
    }
}

impl Hinter for Complete {
    type Hint = String;
}
impl Highlighter for Complete {}
impl Validator for Complete {}
impl Helper for Complete {}

fn history_file() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".bondd_history"))
}

/// Reads commands until `quit`, end of input or Ctrl-C, sending each to `ask` and printing
/// the answer. Errors are printed and never end the session.
pub fn run(names: Names, mut ask: impl FnMut(&str) -> Reply) -> rustyline::Result<()> {
    let mut rl: Editor<Complete, DefaultHistory> = Editor::new()?;
    rl.set_helper(Some(Complete { names }));
    let hist = history_file();
    if let Some(h) = &hist {
        let _ = rl.load_history(h);
    }
    loop {
        match rl.readline(PROMPT) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = rl.add_history_entry(line.as_str());
                }
                let reply = ask(&line);
                print_reply(&reply);
                if reply.quit {
                    break;
                }
            }
            Err(ReadlineError::Interrupted | ReadlineError::Eof) => {
                print_reply(&ask("quit"));
                break;
            }
            Err(e) => return Err(e),
        }
    }
    if let Some(h) = &hist {
        let _ = rl.save_history(h);
    }
    Ok(())
}

/// Prints an answer: results on stdout, errors on stderr.
pub fn print_reply(r: &Reply) {
    if r.text.is_empty() {
        return;
    }
    if r.ok {
        println!("{}", r.text);
        let _ = std::io::stdout().flush();
    } else {
        eprintln!("{}", r.text);
    }
}
