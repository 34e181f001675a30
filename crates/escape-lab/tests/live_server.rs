//! The endpoint server on its own, in a program whose global allocator is
//! the sampler: profiles over real HTTP (ureq, loopback, an ephemeral
//! port), start-up errors, and stopping: dropping the handle while a CPU
//! profile is being taken answers it 503 at once and joins every thread.
//! Request loops are bounded in count; nothing asserts on time.

use std::time::Duration;

use escape_lab::__private::pprof::encode::{self, Profile, ProfileIndex};
use escape_lab::live::{sampler, LiveError, SamplingAlloc, Server};

#[global_allocator]
static ALLOC: SamplingAlloc = SamplingAlloc::system();

#[inline(never)]
fn live_server_kept() -> Vec<Vec<u8>> {
    (0..2000).map(|i| vec![i as u8; 1000]).collect()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent()
}

fn get(agent: &ureq::Agent, url: &str) -> (u16, Vec<u8>) {
    let mut r = agent.get(url).call().unwrap();
    let body = r.body_mut().read_to_vec().unwrap();
    (r.status().as_u16(), body)
}

fn names(p: &Profile) -> Vec<String> {
    let ix = ProfileIndex::new(p);
    p.function
        .iter()
        .map(|f| ix.str(f.name).to_owned())
        .collect()
}

/// The tests of this file take turns: a process has one CPU profiler, and
/// each test asks it for profiles.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn serves_profiles_and_stops_when_dropped() {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    sampler::set_rate(4096);
    let kept = live_server_kept();
    let handle = Server::new()
        .addr("127.0.0.1:0")
        .comments(|| vec!["test comment".to_owned()])
        .start()
        .unwrap();
    let addr = handle.addr();
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
    let base = handle.url();
    assert_eq!(base, format!("http://{addr}/debug/pprof/"));
    let agent = agent();

    let (status, body) = get(&agent, &format!("{base}heap"));
    assert_eq!(status, 200);
    let heap = encode::from_bytes(&body).unwrap();
    let ix = ProfileIndex::new(&heap);
    assert_eq!(ix.str(heap.default_sample_type), "inuse_space");
    assert!(heap.comment.iter().any(|&c| ix.str(c) == "test comment"));
    assert!(
        names(&heap).iter().any(|n| n.ends_with("live_server_kept")),
        "{:?}",
        names(&heap)
    );
    let (status, body) = get(&agent, &format!("{base}allocs"));
    assert_eq!(status, 200);
    let allocs = encode::from_bytes(&body).unwrap();
    assert_eq!(
        ProfileIndex::new(&allocs).str(allocs.default_sample_type),
        "alloc_space"
    );
    drop(kept);

    // Another server cannot take the same address.
    match Server::new().addr(addr.to_string()).start() {
        Err(LiveError::Bind { addr: a, .. }) => assert_eq!(a, addr.to_string()),
        other => panic!("expected a bind error, got {other:?}"),
    }
    match Server::new().addr("not an address").start() {
        Err(e @ LiveError::Address { .. }) => {
            assert!(e.to_string().contains("not an address"), "{e}")
        }
        other => panic!("expected an address error, got {other:?}"),
    }

    // A long CPU profile in flight; once it holds the profiler (a short
    // one is refused with 409), drop the handle. If the short one won the
    // race, the long one was refused: start it again.
    let start_long = || {
        let (agent, base) = (agent.clone(), base.clone());
        std::thread::spawn(move || get(&agent, &format!("{base}profile?seconds=120")))
    };
    let mut long = start_long();
    let mut refused = false;
    for _ in 0..50 {
        let (status, _) = get(&agent, &format!("{base}profile?seconds=1"));
        if status == 409 {
            refused = true;
            break;
        }
        assert_eq!(status, 200);
        if long.is_finished() {
            let (status, body) = long.join().unwrap();
            assert_eq!(status, 409, "{}", String::from_utf8_lossy(&body));
            long = start_long();
        }
    }
    assert!(refused, "the long profile never started");
    drop(handle);
    // The long request was answered (not left to its 120 s), with 503.
    let (status, body) = long.join().unwrap();
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("stopping"));
    // Nothing answers there any more.
    let after = agent.get(&format!("{base}heap")).call();
    assert!(
        after.as_ref().map_or(true, |r| r.status() != 200),
        "still serving after drop"
    );
}

/// Every sampled stack with its values, function names innermost first.
fn stacks(p: &Profile) -> Vec<(Vec<String>, Vec<i64>)> {
    let ix = ProfileIndex::new(p);
    p.sample
        .iter()
        .map(|s| {
            let names = ix.lines(s).map(|(name, _, _)| name.to_owned()).collect();
            (names, s.value.clone())
        })
        .collect()
}

#[inline(never)]
fn the_programs_own_work(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| vec![i as u8; 1000]).collect()
}

/// The profiler's own work (answering, symbolizing, encoding, drawing,
/// collecting CPU samples) is never sampled: scraped again and again, a
/// program's `/allocs` holds its own allocations and its HTTP client's,
/// and well under 1% in frames of the server, the symbolizer or pprof.
#[test]
fn a_scraped_programs_profile_is_its_own() {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    sampler::set_rate(4096);
    let handle = Server::new().addr("127.0.0.1:0").start().unwrap();
    let base = handle.url();
    let agent = agent();
    let mut kept = Vec::new();
    for round in 0..4 {
        kept.push(the_programs_own_work(500));
        for path in [
            "heap",
            "allocs",
            "flame/heap",
            "flame/allocs",
            "",
            "profile?seconds=1",
        ] {
            let (status, _) = get(&agent, &format!("{base}{path}"));
            assert_eq!(status, 200, "round {round}: {path}");
        }
    }
    let (status, body) = get(&agent, &format!("{base}allocs"));
    assert_eq!(status, 200);
    let allocs = encode::from_bytes(&body).unwrap();
    let space = allocs
        .sample_type
        .iter()
        .position(|t| ProfileIndex::new(&allocs).str(t.ty) == "alloc_space")
        .unwrap();
    // The server's side: answering, symbolizing, encoding, drawing, the
    // CPU collector. (Decoding a profile, `escape_lab::pprof::read`, is
    // this program's own work: the other test of this file does it.)
    let profiler = |n: &str| {
        [
            "escape_lab::live::server",
            "escape_lab::live::report",
            "escape_lab::pprof::symbolize",
            "escape_lab::pprof::encode",
            "escape_lab::pprof::cpu",
            "escape_lab::flame",
            "pprof::profiler",
            "pprof::collector",
        ]
        .iter()
        .any(|p| n.starts_with(p))
            || [
                "gimli::",
                "addr2line::",
                "backtrace::symbolize",
                "inferno::",
            ]
            .iter()
            .any(|p| n.contains(p))
    };
    let (mut total, mut theirs, mut own, mut client) = (0i64, 0i64, 0i64, 0i64);
    for (names, values) in stacks(&allocs) {
        let bytes = values[space];
        total += bytes;
        if names.iter().any(|n| profiler(n)) {
            theirs += bytes;
        }
        if names.iter().any(|n| n.ends_with("the_programs_own_work")) {
            own += bytes;
        }
        if names.iter().any(|n| n.starts_with("ureq")) {
            client += bytes;
        }
    }
    eprintln!(
        "profiler frames: {theirs} of {total} sampled bytes; own work {own}; client {client}"
    );
    // Positive controls: the program's own work is there, and so is the
    // client's (the test thread is sampled, as any thread of the program).
    assert!(own > 1_000_000, "own work sampled: {own} of {total} bytes");
    assert!(client > 0, "the HTTP client's allocations are sampled too");
    assert!(
        (theirs as f64) < 0.01 * total as f64,
        "profiler frames hold {theirs} of {total} sampled bytes"
    );
    assert!(
        sampler::stats().unsampled > 0,
        "the server's threads were left out"
    );
    drop(kept);
    drop(handle);
}
