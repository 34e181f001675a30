//! A running `escape-lab serve` for the tests that talk to it: spawned
//! with `--addr 127.0.0.1:0`, its real address read from its first line
//! (`escape-lab serve: http://127.0.0.1:PORT/debug/pprof/`), killed on
//! drop.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};

pub struct Served {
    pub child: Child,
    /// Kept open: serve stops when its stdout is closed.
    _stdout: BufReader<ChildStdout>,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// `http://127.0.0.1:PORT/debug/pprof/`.
    pub base: String,
    /// The test's inputs, and whatever else it writes.
    pub dir: tempfile::TempDir,
}

impl Served {
    /// Spawns `cmd` with its stdout piped here and reads the address from
    /// its first line; `dir` lives as long as the server.
    pub fn start(mut cmd: Command, dir: tempfile::TempDir) -> Served {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let base = line
            .trim()
            .strip_prefix("escape-lab serve: ")
            .unwrap_or_else(|| panic!("first line of serve: {line:?}"))
            .to_owned();
        let addr = base
            .strip_prefix("http://")
            .and_then(|r| r.strip_suffix("/debug/pprof/"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        assert!(addr.starts_with("127.0.0.1:"), "{base}");
        assert!(!addr.ends_with(":0"), "the real port: {base}");
        Served {
            child,
            _stdout: stdout,
            addr,
            base,
            dir,
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
