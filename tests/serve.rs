//! `escape-lab serve` end to end, with a real HTTP client (ureq) on
//! loopback: the profiles decode and say what the article says (`boxed`
//! allocates in `boxed::find`, `fixed` not at all), the CPU profile works
//! one at a time, and bad requests get clear HTTP errors without hurting
//! the server, including a client that hangs up mid-profile.
//!
//! Each test starts its own `serve` on an ephemeral port of 127.0.0.1
//! (`--addr 127.0.0.1:0`, the real port read from its first line), on a
//! small pattern file and haystack so the debug binary starts at once, and
//! kills it when done (`--duration` bounds it too). Every request loop is
//! bounded in count; nothing asserts on time.

#[path = "serve/client.rs"]
mod client;
mod common;

use std::io::Write;
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use client::{sample_types, serve, stacks, write, Served};
use common::BIN;
use escape_lab::__private::pprof::encode::ProfileIndex;

#[test]
fn boxed_allocates_in_find_and_fixed_not_at_all() {
    let s = serve("boxed,fixed");
    let p = s.allocs_with("acmatch::variant::boxed::find");
    let ix = ProfileIndex::new(&p);
    assert_eq!(
        sample_types(&p),
        [
            "alloc_objects/count",
            "alloc_space/bytes",
            "inuse_objects/count",
            "inuse_space/bytes"
        ]
    );
    assert_eq!(ix.str(p.default_sample_type), "alloc_space");
    assert_eq!(p.period, 4096);
    let comments: Vec<&str> = p.comment.iter().map(|&c| ix.str(c)).collect();
    assert!(
        comments.iter().any(|c| c.starts_with("scenario boxed: ")),
        "{comments:?}"
    );

    // Only the scenarios' calls (not their setup, not the server).
    let calls: Vec<_> = stacks(&p)
        .into_iter()
        .filter(|(s, _)| s.iter().any(|f| f.ends_with("escape_lab_serve_call")))
        .collect();
    let top = calls
        .iter()
        .max_by_key(|(_, v)| v[1])
        .expect("allocating calls");
    assert!(
        top.0.iter().any(|f| f == "acmatch::variant::boxed::find"),
        "top allocation stack by alloc_space: {:?}",
        top.0
    );
    // The leaf is the allocating std function, not the allocator or the
    // sampler.
    assert!(
        top.0[0].starts_with("alloc::") || top.0[0].starts_with("<alloc::"),
        "leaf {:?} of {:?}",
        top.0[0],
        top.0
    );
    let fixed: Vec<_> = calls
        .iter()
        .filter(|(s, _)| s.iter().any(|f| f.contains("variant::fixed")))
        .collect();
    assert!(fixed.is_empty(), "fixed allocated: {fixed:?}");

    let heap = s.profile("heap");
    let hx = ProfileIndex::new(&heap);
    assert_eq!(hx.str(heap.default_sample_type), "inuse_space");
    assert_eq!(sample_types(&heap), sample_types(&p));
    // A delta over one second: what boxed allocated in it.
    let delta = s.profile("allocs?seconds=1");
    assert!(stacks(&delta)
        .iter()
        .any(|(s, v)| v[1] > 0 && s.iter().any(|f| f == "acmatch::variant::boxed::find")));
}

#[test]
fn bad_requests_get_clear_errors_and_the_server_lives_on() {
    let s = serve("boxed");
    let index = s.get("");
    assert_eq!(index.status, 200);
    assert!(index.content_type.starts_with("text/html"));
    for link in [
        "href=\"allocs\"",
        "href=\"heap\"",
        "href=\"profile?seconds=30\"",
        "flame/heap",
    ] {
        assert!(index.text().contains(link), "{link} in the index");
    }

    let a = s.get("nope");
    assert_eq!(a.status, 404);
    assert!(a.text().contains("/debug/pprof/nope"), "{}", a.text());
    let a = s.get("../../etc/passwd");
    assert_eq!(a.status, 404, "{}", a.text());

    for bad in ["-1", "99999", "abc", "0", "1.5", ""] {
        let a = s.get(&format!("profile?seconds={bad}"));
        assert_eq!(a.status, 400, "seconds={bad}: {}", a.text());
        assert!(
            a.text().contains("seconds") && a.text().contains("300"),
            "{}",
            a.text()
        );
        assert!(a.content_type.starts_with("text/plain"));
    }
    let a = s.get("heap?seconds=-1");
    assert_eq!(a.status, 400, "{}", a.text());
    let a = s.get("heap?debug=1");
    assert_eq!(a.status, 400);
    assert!(a.text().contains("go tool pprof"), "{}", a.text());
    let a = s.get("flame/heap?sample_index=bogus");
    assert_eq!(a.status, 400);
    assert!(a.text().contains("alloc_space"), "{}", a.text());
    let a = s.get("heap?seconds=%zz");
    assert_eq!(a.status, 400, "{}", a.text());

    let url = format!("{}heap", s.server.base);
    let r = s.agent.post(&url).send("x").unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert_eq!(
        r.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("GET, HEAD")
    );

    // Garbage on the socket, the connection dropped at once.
    let host = s.server.addr.as_str();
    let mut raw = TcpStream::connect(host).unwrap();
    raw.write_all(b"\x00\x01 nonsense\r\n\r\n").unwrap();
    drop(raw);

    // Still serving, with real answers.
    let a = s.get("flame/allocs");
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(a.content_type.starts_with("image/svg+xml"));
    assert!(a.text().contains("<svg"));
    let a = s.get("cmdline");
    assert_eq!(a.status, 200);
    assert!(a.text().contains("serve"), "{}", a.text());
    assert_eq!(s.get("").status, 200);
}

#[test]
fn cpu_profiles_one_at_a_time_and_survive_a_hang_up() {
    let s = serve("boxed");
    let p = s.profile("profile?seconds=1");
    assert_eq!(sample_types(&p), ["samples/count", "cpu/nanoseconds"]);
    let samples: i64 = p.sample.iter().map(|x| x.value[0]).sum();
    assert!(samples > 0, "no CPU samples");
    assert!(
        stacks(&p)
            .iter()
            .any(|(s, _)| s.iter().any(|f| f.starts_with("acmatch::"))),
        "the worker's matching is in the CPU profile"
    );

    // A client that asks for a profile and hangs up at once: the server
    // takes it, fails to write it, and goes on; the profiler is free again
    // afterwards (bounded: 60 tries, 409 while the abandoned one runs).
    let host = s.server.addr.as_str();
    let mut raw = TcpStream::connect(host).unwrap();
    raw.write_all(
        format!("GET /debug/pprof/profile?seconds=2 HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
    )
    .unwrap();
    drop(raw);
    assert!(
        retry_until_served(&s, "flame/profile?seconds=1", 60),
        "the CPU profiler stayed busy after a client hung up"
    );

    // Two at once: one is taken, the other refused with 409 and a
    // Retry-After, whichever comes first. Bounded: 60 tries.
    let base = s.server.base.clone();
    let agent = s.agent.clone();
    let long = std::thread::spawn(move || {
        let r = agent
            .get(format!("{base}profile?seconds=3"))
            .call()
            .unwrap();
        r.status().as_u16()
    });
    let mut statuses = Vec::new();
    for _ in 0..60 {
        let a = s.get("profile?seconds=1");
        statuses.push(a.status);
        if a.status == 409 {
            assert!(a.text().contains("already"), "{}", a.text());
            assert!(a.retry_after.is_some());
            std::thread::sleep(Duration::from_millis(100));
        } else if statuses.contains(&409) || long.is_finished() {
            // A 200 after a 409, or a 200 while the long one was refused.
            break;
        }
    }
    statuses.push(long.join().unwrap());
    assert!(
        statuses.iter().all(|&c| c == 200 || c == 409),
        "{statuses:?}"
    );
    assert!(statuses.contains(&409), "never refused: {statuses:?}");
    assert!(statuses.contains(&200), "never served: {statuses:?}");
    assert!(retry_until_served(&s, "profile?seconds=1", 60));
    assert_eq!(s.get("heap").status, 200);
}

#[test]
fn bad_usage_is_exit_2_with_the_reason() {
    let run = |args: &[&str]| Command::new(BIN).args(args).output().unwrap();
    for bad in [
        "--duration=-1",
        "--duration=0",
        "--duration=inf",
        "--duration=1e30",
        "--duration=NaN",
    ] {
        let o = run(&["serve", "--variants", "boxed", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("--duration") && err.contains("above 0"),
            "{err}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "p.txt", b"he\n");
    let h = write(dir.path(), "h.txt", b"hehehe");
    let o = run(&[
        "serve",
        "--patterns",
        &p,
        "--haystack",
        &h,
        "--addr",
        "nonsense",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("\"nonsense\" is not an address"), "{err}");
}

#[test]
fn measure_sets_estimates_beside_exact_counts() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "p.txt", b"she\nhe\nhers\n");
    let h = write(
        dir.path(),
        "h.txt",
        "she said hers, he said his. ".repeat(300).as_bytes(),
    );
    let o = Command::new(BIN)
        .args([
            "serve",
            "--measure",
            "--patterns",
            &p,
            "--haystack",
            &h,
            "--variants",
            "boxed,fixed",
            "--rate",
            "4096",
            "--duration",
            "0.3",
        ])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let row = |name: &str| -> Vec<String> {
        out.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} row in {out}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    // scenario rounds system unit sampled unit overhead allocs-exact
    // allocs-est error B-exact B-est error samples
    let boxed = row("boxed");
    let fixed = row("fixed");
    assert!(boxed[7].parse::<f64>().unwrap() > 0.0, "{out}");
    assert!(boxed[8].parse::<f64>().unwrap() > 0.0, "{out}");
    assert_eq!(fixed[7], "0.00", "{out}");
    assert_eq!(fixed[8], "0.00", "{out}");
}

/// GETs `path` until it is answered 200 (true), waiting a little after
/// each 409; any other status fails. At most `tries` requests.
fn retry_until_served(s: &Served, path: &str, tries: usize) -> bool {
    for _ in 0..tries {
        let a = s.get(path);
        match a.status {
            200 => return true,
            409 => std::thread::sleep(Duration::from_millis(200)),
            other => panic!("{path}: {other} {}", a.text()),
        }
    }
    false
}

/// The article's command, against a live server. Needs Go:
/// `cargo test --test serve -- --ignored`.
#[test]
#[ignore = "needs go tool pprof"]
fn go_tool_pprof_names_boxed_find() {
    let s = serve("boxed");
    s.allocs_with("acmatch::variant::boxed::find");
    let out = Command::new("go")
        .args(["tool", "pprof", "-sample_index=alloc_space", "-top"])
        .arg(format!("{}allocs", s.server.base))
        .env("PPROF_TMPDIR", s.server.dir.path())
        .output()
        .expect("go is installed");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("acmatch::variant::boxed::find"), "{text}");
}
