//! `escape-lab serve` as a service that is left on: it cannot be exhausted
//! (descriptors run out, idle sockets pile up), Ctrl-C answers a waiting
//! CPU profile, and a short soak of scraping stays flat. Loopback only,
//! bounded loops; nothing asserts on time beyond generous bounds.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::BIN;

/// A running `serve` and the file its stderr goes to.
struct Served {
    server: common::served::Served,
    stderr: std::path::PathBuf,
}

fn inputs(dir: &Path) -> (String, String) {
    let p = dir.join("patterns.txt");
    let h = dir.join("haystack.txt");
    std::fs::write(&p, "she\nhe\nhers\nsea\n").unwrap();
    std::fs::write(&h, "she sells sea shells by the sea shore. ".repeat(100)).unwrap();
    (
        p.to_str().unwrap().to_owned(),
        h.to_str().unwrap().to_owned(),
    )
}

/// `serve` with the descriptor limit `fds` (none when 0), its first line
/// read for the address.
fn serve(fds: u32) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let (p, h) = inputs(dir.path());
    let stderr = dir.path().join("stderr.txt");
    let limit = if fds > 0 {
        format!("ulimit -n {fds}; ")
    } else {
        String::new()
    };
    let script = format!(
        "{limit}exec \"$0\" serve --variants fixed --addr 127.0.0.1:0 --duration 120 --patterns \"$1\" --haystack \"$2\""
    );
    let mut cmd = Command::new("sh");
    cmd.args(["-c", &script, BIN, &p, &h])
        .stderr(std::fs::File::create(&stderr).unwrap());
    let server = common::served::Served::start(cmd, dir);
    Served { server, stderr }
}

/// A GET on a fresh connection: the status code, or `None` when the
/// connection failed or no answer came.
fn get(addr: &str, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).ok()?;
    let text = String::from_utf8_lossy(&answer);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

fn threads_and_fds(pid: u32) -> (usize, usize) {
    let threads = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .count();
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count();
    (threads, fds)
}

fn until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn running_out_of_descriptors_does_not_kill_the_listener() {
    // 16 descriptors: the server's few and about ten connections.
    let s = serve(16);
    let pid = s.server.child.id();
    assert_eq!(get(&s.server.addr, "/debug/pprof/cmdline"), Some(200));
    // The answered connection's thread ends just after its answer.
    std::thread::sleep(Duration::from_millis(500));
    let before = threads_and_fds(pid);
    // Idle sockets that send nothing: more than the limit allows.
    let idle: Vec<TcpStream> = (0..60)
        .filter_map(|_| TcpStream::connect(&s.server.addr).ok())
        .collect();
    assert!(idle.len() > 16, "only {} connections opened", idle.len());
    until(
        "the server to run out of descriptors",
        Duration::from_secs(30),
        || std::fs::read_to_string(&s.stderr).is_ok_and(|e| e.contains("Too many open files")),
    );
    drop(idle);
    // The listener lives: a GET is answered once the sockets are gone
    // (closed by us, or timed out by the server).
    until(
        "a GET to be answered again",
        Duration::from_secs(60),
        || get(&s.server.addr, "/debug/pprof/cmdline") == Some(200),
    );
    until(
        "threads and descriptors to come back",
        Duration::from_secs(30),
        || threads_and_fds(pid) == before,
    );
    let stderr = std::fs::read_to_string(&s.stderr).unwrap();
    assert!(
        stderr.contains("accept on 127.0.0.1:") && stderr.contains("retrying"),
        "{stderr}"
    );
}

#[test]
fn idle_connections_are_timed_out_and_one_too_many_gets_503() {
    let s = serve(0);
    let pid = s.server.child.id();
    assert_eq!(get(&s.server.addr, "/debug/pprof/cmdline"), Some(200));
    // The answered connection's thread ends just after its answer.
    std::thread::sleep(Duration::from_millis(500));
    let before = threads_and_fds(pid);
    let idle: Vec<TcpStream> = (0..16)
        .map(|_| TcpStream::connect(&s.server.addr).unwrap())
        .collect();
    until("16 connection threads", Duration::from_secs(30), || {
        threads_and_fds(pid).0 >= before.0 + 16
    });
    assert_eq!(
        get(&s.server.addr, "/debug/pprof/cmdline"),
        Some(503),
        "over the cap"
    );
    // Left open: the server closes them after its read timeout (5 s).
    until(
        "the idle connections to time out",
        Duration::from_secs(30),
        || threads_and_fds(pid) == before,
    );
    assert_eq!(get(&s.server.addr, "/debug/pprof/cmdline"), Some(200));
    let mut closed = 0;
    for mut c in idle {
        let mut buf = [0u8; 1];
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        if matches!(c.read(&mut buf), Ok(0)) {
            closed += 1;
        }
    }
    assert_eq!(closed, 16, "every idle connection was closed by the server");
}

#[test]
fn ctrl_c_answers_a_waiting_cpu_profile_before_exit() {
    let mut s = serve(0);
    let addr = s.server.addr.clone();
    let waiting = std::thread::spawn(move || get(&addr, "/debug/pprof/profile?seconds=60"));
    std::thread::sleep(Duration::from_millis(500));
    let kill = Command::new("kill")
        .args(["-INT", &s.server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    assert_eq!(waiting.join().unwrap(), Some(503));
    let status = s.server.child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
}

/// `scripts/soak.py ARGS -- <serve over a small pattern file>`: whether
/// it exited 0, and its stdout and stderr; `None` (the test skips, saying
/// so) without python3.
fn soak(args: &[&str]) -> Option<(bool, String, String)> {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("skipped: no python3 for scripts/soak.py");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let (p, h) = inputs(dir.path());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/soak.py");
    let o = Command::new("python3")
        .arg(script)
        .args(["--binary", BIN])
        .args(args)
        .arg("--")
        .args(["--variants", "fixed", "--patterns", &p, "--haystack", &h])
        .output()
        .unwrap();
    Some((
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    ))
}

#[test]
fn a_short_soak_stays_flat() {
    let Some((ok, out, err)) = soak(&["--seconds", "20", "--every", "4"]) else {
        return;
    };
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("soak: flat") && out.contains(" 0 failed"),
        "{out}"
    );
}

/// A `/heap` answer symbolizes its stacks, whose outermost frames are in
/// libc: where libc's debug file is installed (Debian's `libc6-dbg`), the
/// `backtrace` crate inflated and parsed it, and the answer's anonymous
/// memory peaked 24-31 MB above the program's; the streaming symbolizer
/// names libc's frames from its symbol table instead. Measured by
/// `scripts/soak.py --request`, which polls `/proc` every 10 ms.
#[test]
fn a_heap_request_stays_within_12_mb_of_anonymous_memory() {
    let args = ["--request", "heap", "--times", "2", "--anon-slack", "12"];
    let Some((ok, out, err)) = soak(&args) else {
        return;
    };
    assert!(ok && out.contains("soak: requests answered"), "{out}{err}");
}
