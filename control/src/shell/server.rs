//! The control socket: a Unix socket on which scripts (`bondd ctl`) and remote prompts
//! (`bondd shell`) send commands to a running appliance, as `ovs-appctl` does with
//! ovs-vswitchd. One JSON object per line each way: `{"line": "..."}` in,
//! `{"ok": bool, "text": "...", "quit": bool}` out. The socket is created with mode 0600:
//! only root (the appliance's user) may drive the appliance.

use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

/// A command for the control loop, with where to send the answer.
pub struct Request {
    pub line: String,
    pub reply: Sender<Reply>,
}

/// The control loop's answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Reply {
    pub ok: bool,
    pub text: String,
    /// The command asked the appliance to stop.
    #[serde(default)]
    pub quit: bool,
}

impl Reply {
    pub fn ok(text: impl Into<String>) -> Reply {
        Reply {
            ok: true,
            text: text.into(),
            quit: false,
        }
    }
    pub fn err(text: impl Into<String>) -> Reply {
        Reply {
            ok: false,
            text: text.into(),
            quit: false,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Wire {
    line: String,
}

/// Sends one command to the control loop and waits for its answer.
pub fn ask(to: &Sender<Request>, line: &str) -> Reply {
    let (tx, rx) = channel();
    if to
        .send(Request {
            line: line.to_owned(),
            reply: tx,
        })
        .is_err()
    {
        return Reply::err("the appliance is shutting down");
    }
    rx.recv()
        .unwrap_or_else(|_| Reply::err("the appliance stopped before answering"))
}

/// Removes the socket file on drop.
pub struct SocketGuard(PathBuf);

impl Drop for SocketGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Starts serving `path` on a background thread; each connection gets its own thread and may
/// send any number of commands.
pub fn serve(path: &Path, to: Sender<Request>) -> std::io::Result<SocketGuard> {
    if path.exists() {
        // A live appliance answers; a stale file from a crash does not.
        if UnixStream::connect(path).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!(
                    "{}: another bondd is already listening there",
                    path.display()
                ),
            ));
        }
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    std::thread::Builder::new()
        .name("bondd-ctl".into())
        .spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let to = to.clone();
                let _ = std::thread::Builder::new()
                    .name("bondd-ctl-conn".into())
                    .spawn(move || handle(conn, &to));
            }
        })?;
    Ok(SocketGuard(path.to_owned()))
}

fn handle(conn: UnixStream, to: &Sender<Request>) {
    let Ok(mut out) = conn.try_clone() else {
        return;
    };
    for line in BufReader::new(conn).lines() {
        let Ok(line) = line else { return };
        let reply = match serde_json::from_str::<Wire>(&line) {
            Ok(w) => ask(to, &w.line),
            Err(e) => Reply::err(format!("bad request {line:?}: {e}")),
        };
        let Ok(text) = serde_json::to_string(&reply) else {
            return;
        };
        if writeln!(out, "{text}").is_err() {
            return;
        }
    }
}

/// A client connection to a running appliance.
pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Client {
    /// Connects to the socket at `path`.
    pub fn connect(path: &Path) -> std::io::Result<Client> {
        let s = UnixStream::connect(path).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!(
                    "{}: {e} (is bondd running with this run_dir?)",
                    path.display()
                ),
            )
        })?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Client {
            reader: BufReader::new(s.try_clone()?),
            writer: s,
        })
    }

    /// Sends one command and returns the answer.
    pub fn ask(&mut self, line: &str) -> std::io::Result<Reply> {
        let req = serde_json::to_string(&Wire {
            line: line.to_owned(),
        })?;
        writeln!(self.writer, "{req}")?;
        let mut resp = String::new();
        if self.reader.read_line(&mut resp)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the appliance closed the connection",
            ));
        }
        serde_json::from_str(&resp).map_err(std::io::Error::other)
    }
}

/// A channel for requests: the control loop keeps the receiver.
pub fn requests() -> (Sender<Request>, Receiver<Request>) {
    channel()
}
