//! The HTTP side of `tests/serve.rs`: a `serve` on a small workload with
//! a ureq client, its answers, and the decoded profiles' stacks.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use escape_lab::__private::pprof::encode::{self, Profile, ProfileIndex};

use crate::common::BIN;

/// A running `escape-lab serve` and an HTTP client for it.
pub(crate) struct Served {
    pub(crate) server: crate::common::served::Served,
    pub(crate) agent: ureq::Agent,
}

pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) content_type: String,
    pub(crate) retry_after: Option<String>,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub(crate) fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_owned()
}

pub(crate) fn serve(variants: &str) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let patterns = write(
        dir.path(),
        "patterns.txt",
        b"she\nhe\nhers\nsea\nshells\nshore\nsells\nthe\ne\n",
    );
    let haystack = write(
        dir.path(),
        "haystack.txt",
        "she sells sea shells by the sea shore, hers or his. "
            .repeat(200)
            .as_bytes(),
    );
    let mut cmd = Command::new(BIN);
    cmd.args([
        "serve",
        "--patterns",
        &patterns,
        "--haystack",
        &haystack,
        "--variants",
        variants,
        "--addr",
        "127.0.0.1:0",
        "--rate",
        "4096",
        "--duration",
        "600",
    ]);
    let server = crate::common::served::Served::start(cmd, dir);
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .new_agent();
    Served { server, agent }
}

impl Served {
    pub(crate) fn get(&self, path: &str) -> Answer {
        let url = format!("{}{path}", self.server.base);
        let mut r = self
            .agent
            .get(&url)
            .call()
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        let header = |name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header("content-type").unwrap_or_default();
        let retry_after = header("retry-after");
        Answer {
            status: r.status().as_u16(),
            content_type,
            retry_after,
            body: r
                .body_mut()
                .with_config()
                .limit(64 << 20)
                .read_to_vec()
                .unwrap(),
        }
    }

    pub(crate) fn profile(&self, path: &str) -> Profile {
        let a = self.get(path);
        assert_eq!(a.status, 200, "{path}: {}", a.text());
        assert_eq!(a.content_type, "application/octet-stream");
        encode::from_bytes(&a.body).unwrap()
    }

    /// The allocation profile once the worker has run long enough for
    /// `function` to be sampled (bounded: 200 tries).
    pub(crate) fn allocs_with(&self, function: &str) -> Profile {
        for _ in 0..200 {
            let p = self.profile("allocs");
            if stacks(&p)
                .iter()
                .any(|(s, _)| s.iter().any(|f| f.contains(function)))
            {
                return p;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{function} never appeared in /debug/pprof/allocs");
    }
}

/// Every sample's function names (leaf first, inlined frames innermost
/// first) with its values.
pub(crate) fn stacks(p: &Profile) -> Vec<(Vec<String>, Vec<i64>)> {
    let ix = ProfileIndex::new(p);
    p.sample
        .iter()
        .map(|s| {
            let names = ix.lines(s).map(|(name, _, _)| name.to_owned()).collect();
            (names, s.value.clone())
        })
        .collect()
}

pub(crate) fn sample_types(p: &Profile) -> Vec<String> {
    let ix = ProfileIndex::new(p);
    p.sample_type
        .iter()
        .map(|t| format!("{}/{}", ix.str(t.ty), ix.str(t.unit)))
        .collect()
}
