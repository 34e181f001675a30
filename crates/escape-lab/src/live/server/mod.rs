//! The `/debug/pprof/` endpoints of a running process, on their own
//! thread, over a small HTTP/1.1 of its own (`http`: one request per
//! connection, timeouts, a connection cap, accept errors survived).
//!
//! | path | what |
//! |---|---|
//! | `/debug/pprof/` | an index page: links, the sampler's figures, `go tool pprof` commands, and flamegraphs of the heap in use, of the allocations and of a short CPU sample |
//! | `/debug/pprof/heap` | the sampled heap profile (gzipped `profile.proto`), Go's four sample types, default `inuse_space`; `?seconds=N` for a delta over the next N seconds |
//! | `/debug/pprof/allocs` | the same profile with default `alloc_space` (as Go's) |
//! | `/debug/pprof/profile?seconds=N` | a CPU profile of the next N seconds (default 30, as Go's), pprof-rs sampling every thread; one at a time |
//! | `/debug/pprof/flame/heap`, `/flame/allocs` | inferno flamegraphs (SVG) of the heap profile; `?sample_index=alloc_objects` and so on |
//! | `/debug/pprof/flame/profile?seconds=N` | an inferno flamegraph of a CPU profile (default 2 s) |
//! | `/debug/pprof/cmdline` | the command line, arguments separated by NUL bytes (Go's) |
//!
//! Bad requests get a plain-text answer saying what was wrong: 404 for an
//! unknown path, 405 for a method other than GET or HEAD, 400 for a bad
//! `seconds` (not a whole number from 1 to the maximum, 300 by default) or
//! `sample_index`, 409 when a CPU profile is already being taken (with
//! `Retry-After`), 503 when too many requests are in progress or the
//! server is stopping. A client that goes away before its answer is written
//! costs the server nothing but the work already done.
//!
//! Each connection is answered on a thread of its own (at most
//! [`MAX_IN_FLIGHT`] at once; one more gets 503 at once), so a 30-second
//! CPU profile does not hold up the heap; a client has
//! 5 s to send its request. Dropping the [`Handle`]
//! wakes every waiting request (they answer 503), stops accepting, and
//! joins the threads. No thread of the server is sampled by the heap
//! profiler ([`sampler::Unsampled`]).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::report::{self, HeapProfileOptions, SAMPLE_TYPES};
use super::sampler;
use super::LiveError;
use crate::pprof::encode::{self, Profile};
use crate::pprof::{cpu, fold, mapping, symbolize::Symbolizer};

/// Where [`Server`] listens unless told otherwise: loopback only, Go's
/// customary pprof port.
pub const DEFAULT_ADDR: &str = "127.0.0.1:6060";

/// The longest `seconds` accepted unless [`Server::max_seconds`] says
/// otherwise.
pub const DEFAULT_MAX_SECONDS: u64 = 300;

/// `seconds` of `/debug/pprof/profile` when not given (Go's default).
pub const DEFAULT_CPU_SECONDS: u64 = 30;

/// `seconds` of `/debug/pprof/flame/profile` (the index page's CPU graph)
/// when not given.
pub const DEFAULT_FLAME_SECONDS: u64 = 2;

/// CPU sampling frequency unless [`Server::cpu_hz`] says otherwise: Go's.
pub const DEFAULT_CPU_HZ: i32 = 100;

/// Requests answered at once; more get 503.
pub const MAX_IN_FLIGHT: usize = 16;

type CommentFn = dyn Fn() -> Vec<String> + Send + Sync;

/// Builds and starts the endpoint server.
///
/// ```no_run
/// # fn main() -> Result<(), escape_lab::live::LiveError> {
/// let handle = escape_lab::live::Server::new()
///     .addr("127.0.0.1:6060")
///     .comments(|| vec!["requests served: 42".to_string()])
///     .start()?;
/// println!("profiles at {}", handle.url());
/// // ... the program runs; dropping `handle` stops the server.
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Server {
    addr: String,
    max_seconds: u64,
    cpu_hz: i32,
    comments: Option<Arc<CommentFn>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .field("max_seconds", &self.max_seconds)
            .field("cpu_hz", &self.cpu_hz)
            .finish_non_exhaustive()
    }
}

impl Default for Server {
    fn default() -> Self {
        Server::new()
    }
}

impl Server {
    /// A server on [`DEFAULT_ADDR`], `seconds` up to
    /// [`DEFAULT_MAX_SECONDS`], CPU sampling at [`DEFAULT_CPU_HZ`].
    ///
    /// # Allocation
    ///
    /// The address string.
    #[must_use]
    pub fn new() -> Server {
        Server {
            addr: DEFAULT_ADDR.to_owned(),
            max_seconds: DEFAULT_MAX_SECONDS,
            cpu_hz: DEFAULT_CPU_HZ,
            comments: None,
        }
    }

    /// The address to listen on: `host:port` (`127.0.0.1:8787`,
    /// `localhost:0` for a free port, `[::1]:8787`), or `:port` for
    /// loopback (unlike Go's `:port`, which is every interface). Another
    /// machine can reach the endpoints only if you name an address it can
    /// reach (`0.0.0.0:8787`); see the warning in [`super`].
    ///
    /// # Allocation
    ///
    /// The address string.
    #[must_use]
    pub fn addr(mut self, addr: impl Into<String>) -> Server {
        self.addr = addr.into();
        self
    }

    /// The longest `seconds` a request may ask for (at least 1).
    ///
    /// # Allocation
    ///
    /// Never allocates.
    #[must_use]
    pub fn max_seconds(mut self, seconds: u64) -> Server {
        self.max_seconds = seconds.max(1);
        self
    }

    /// The CPU sampling frequency, clamped to
    /// `1..=`[`cpu::MAX_FREQUENCY_HZ`].
    ///
    /// # Allocation
    ///
    /// Never allocates.
    #[must_use]
    pub fn cpu_hz(mut self, hz: i32) -> Server {
        self.cpu_hz = hz.clamp(1, cpu::MAX_FREQUENCY_HZ);
        self
    }

    /// Lines added to every profile's comments (`go tool pprof -comments`)
    /// and to the index page, computed per request: what the program has
    /// done so far, say, so per-call figures can be derived.
    ///
    /// # Allocation
    ///
    /// The boxed closure.
    #[must_use]
    pub fn comments(mut self, f: impl Fn() -> Vec<String> + Send + Sync + 'static) -> Server {
        self.comments = Some(Arc::new(f));
        self
    }

    /// Binds the address and starts answering on a thread of its own.
    ///
    /// # Allocation
    ///
    /// The server's state and its accept thread; a thread per connection
    /// while it is answered.
    ///
    /// # Errors
    ///
    /// [`LiveError::Address`] for an address that does not parse or
    /// resolve, [`LiveError::Bind`] when it cannot be bound (in use, not
    /// this machine's), [`LiveError::Thread`] when the thread cannot start.
    pub fn start(self) -> Result<Handle, LiveError> {
        // What starting allocates is the profiler's, not the program's.
        let _unsampled = sampler::Unsampled::new();
        let addrs = resolve(&self.addr)?;
        let listener = TcpListener::bind(&addrs[..]).map_err(|e| LiveError::Bind {
            addr: self.addr.clone(),
            source: Box::new(e),
        })?;
        let local = listener.local_addr().map_err(|e| LiveError::Bind {
            addr: self.addr.clone(),
            source: Box::new(e),
        })?;
        // Non-blocking: the accept loop looks at the stop flag between
        // connections, so stopping needs no connection to itself.
        listener
            .set_nonblocking(true)
            .map_err(|e| LiveError::Bind {
                addr: self.addr.clone(),
                source: Box::new(e),
            })?;
        let shared = Arc::new(Shared {
            addr: local,
            config: self,
            stopping: Mutex::new(false),
            wake: Condvar::new(),
            cpu_busy: AtomicBool::new(false),
            symbolizer: Mutex::new(Symbolizer::new()),
            started: Instant::now(),
        });
        let s = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("escape-lab-pprof".to_owned())
            .spawn(move || http::accept_loop(&s, &listener))
            .map_err(LiveError::Thread)?;
        Ok(Handle {
            shared,
            thread: Some(thread),
        })
    }
}

/// Starts the endpoints on `addr` with the default settings:
/// `Server::new().addr(addr).start()`.
///
/// # Allocation
///
/// As [`Server::start`].
///
/// # Errors
///
/// As [`Server::start`].
pub fn serve(addr: &str) -> Result<Handle, LiveError> {
    Server::new().addr(addr).start()
}

/// The running server. Dropping it (or [`Handle::stop`]) stops it: waiting
/// requests answer 503, the listener closes, the threads are joined.
pub struct Handle {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("addr", &self.shared.addr)
            .finish_non_exhaustive()
    }
}

impl Handle {
    /// The address bound (with the real port when `:0` was asked for).
    ///
    /// # Allocation
    ///
    /// Never allocates.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// The index page's URL, `http://127.0.0.1:8787/debug/pprof/`.
    ///
    /// # Allocation
    ///
    /// The string.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}/debug/pprof/", self.shared.addr)
    }

    /// Stops the server and waits for its threads (what dropping does).
    ///
    /// # Allocation
    ///
    /// Never allocates.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let _unsampled = sampler::Unsampled::new();
        *self
            .shared
            .stopping
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = true;
        self.shared.wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Shared {
    addr: SocketAddr,
    config: Server,
    stopping: Mutex<bool>,
    wake: Condvar,
    cpu_busy: AtomicBool,
    symbolizer: Mutex<Symbolizer>,
    started: Instant,
}

impl Shared {
    fn stopping(&self) -> bool {
        *self.stopping.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits `d`, or less if the server stops; true if the whole time passed.
    fn wait(&self, d: Duration) -> bool {
        let guard = self.stopping.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = self
            .wake
            .wait_timeout_while(guard, d, |stopping| !*stopping)
            .unwrap_or_else(PoisonError::into_inner);
        !*guard
    }

    /// Drops what symbolizing keeps: this server's address cache and the
    /// `backtrace` crate's parsed debug info and mapped objects (100 MB and
    /// more for a large binary with full debug info), then hands the freed
    /// memory back to the system (glibc's `malloc_trim`). Between requests
    /// the server keeps only its configuration and its listener; each
    /// request that symbolizes parses the debug info again.
    fn release_caches(&self) {
        *self
            .symbolizer
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Symbolizer::new();
        backtrace::clear_symbol_cache();
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: malloc_trim only returns free memory at the top of the
        // heap and of each arena to the system; it is safe at any time.
        unsafe {
            libc::malloc_trim(0);
        }
    }

    fn comments(&self) -> Vec<String> {
        self.config
            .comments
            .as_ref()
            .map(|f| f())
            .unwrap_or_default()
    }
}

/// `host:port` or `:port` → socket addresses, `:port` meaning loopback.
fn resolve(addr: &str) -> Result<Vec<SocketAddr>, LiveError> {
    let bad = |problem: String| LiveError::Address {
        addr: addr.to_owned(),
        problem,
    };
    let full = match addr.strip_prefix(':') {
        Some(port) => format!("127.0.0.1:{port}"),
        None => addr.to_owned(),
    };
    let addrs: Vec<SocketAddr> = full
        .to_socket_addrs()
        .map_err(|e| bad(format!("{e} (expected host:port, e.g. 127.0.0.1:6060)")))?
        .collect();
    if addrs.is_empty() {
        return Err(bad("it resolves to no address".to_owned()));
    }
    Ok(addrs)
}

mod http;
mod routes;
use routes::*;
