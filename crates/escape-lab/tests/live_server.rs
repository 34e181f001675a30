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

#[test]
fn serves_profiles_and_stops_when_dropped() {
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
