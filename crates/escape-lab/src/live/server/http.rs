//! The server's HTTP/1.1, as little of it as a profiling endpoint needs and
//! nothing a client can hold: one request per connection, answered with
//! `Connection: close` and then really closed; a read timeout for idle and
//! slow clients; a cap on open connections (the one over it gets 503 from
//! the accept thread, without a thread of its own); `accept` errors
//! (EMFILE when descriptors run out, ENOBUFS, ...) survived with a back-off
//! and one line on stderr, so the listener never dies.
//!
//! Every thread here runs [`sampler::Unsampled`]: what the server
//! allocates never enters the profiles it serves.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

/// Connections answered at once; one more gets 503 and is closed.
pub const MAX_CONNECTIONS: usize = MAX_IN_FLIGHT;

/// How long a client may take to send its request (idle or slow).
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// How long writing an answer may stall before the client is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest request head read (the line and the headers).
const MAX_HEAD: usize = 8 * 1024;

/// How often the accept loop looks at the stop flag while idle.
const POLL: Duration = Duration::from_millis(25);

/// A request: what the routes need of it.
pub(super) struct Request {
    pub(super) method: String,
    pub(super) target: String,
    pub(super) host: Option<String>,
}

/// Accepts until the server stops, one thread per connection up to
/// [`MAX_CONNECTIONS`], and joins them.
pub(super) fn accept_loop(shared: &Arc<Shared>, listener: &TcpListener) {
    let _unsampled = sampler::Unsampled::new();
    let open = Arc::new(AtomicUsize::new(0));
    let mut threads: Vec<JoinHandle<()>> = Vec::new();
    let mut backoff = Duration::ZERO;
    let mut last_said: Option<Instant> = None;
    while !shared.stopping() {
        let stream = match listener.accept() {
            Ok((stream, _)) => {
                backoff = Duration::ZERO;
                stream
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(POLL);
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // EMFILE, ENFILE, ENOBUFS, ENOMEM and the like: the
                // listener is fine; wait for resources to come back.
                backoff = (backoff * 2).clamp(Duration::from_millis(10), Duration::from_secs(1));
                if last_said.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
                    let _ = writeln!(
                        io::stderr(),
                        "escape-lab live: accept on {} failed: {e}; retrying (every {} ms at most)",
                        shared.addr,
                        backoff.as_millis()
                    );
                    last_said = Some(Instant::now());
                }
                shared.wait(backoff);
                continue;
            }
        };
        threads.retain(|t| !t.is_finished());
        if open.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
            refuse(stream);
            continue;
        }
        open.fetch_add(1, Ordering::SeqCst);
        let s = Arc::clone(shared);
        let count = Arc::clone(&open);
        let spawned = std::thread::Builder::new()
            .name("escape-lab-pprof-conn".to_owned())
            .spawn(move || {
                let _unsampled = sampler::Unsampled::new();
                serve_connection(&s, stream);
                // Every answer gives back what symbolizing took (safe while
                // another request symbolizes: both caches are locked).
                s.release_caches();
                count.fetch_sub(1, Ordering::SeqCst);
            });
        match spawned {
            Ok(t) => threads.push(t),
            // No thread: the stream went with the closure and is closed.
            Err(_) => {
                open.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }
    for t in threads {
        let _ = t.join();
    }
}

/// 503 to a connection over the cap, from the accept thread: bounded by a
/// short write timeout, the request left unread.
fn refuse(mut stream: TcpStream) {
    let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
    let body = format!("{MAX_CONNECTIONS} connections are open; try again later\n");
    let _ = write!(
        stream,
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.shutdown(Shutdown::Both);
}

fn serve_connection(shared: &Shared, mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    // A client gone before its answer costs nothing more: write errors end
    // the connection like a finished answer.
    let _ = match read_request(&mut stream) {
        Ok(request) if shared.stopping() => write_reply(
            &mut stream,
            &request,
            Reply::text(503, "the profile server is stopping"),
        ),
        Ok(request) => {
            let reply = route(
                shared,
                &request.method,
                &request.target,
                request.host.clone(),
            );
            write_reply(&mut stream, &request, reply)
        }
        // Timed out, closed or garbled: nothing worth answering, or a 400.
        Err(Some(reply)) => write_reply(&mut stream, &Request::unknown(), reply),
        Err(None) => Ok(()),
    };
    let _ = stream.shutdown(Shutdown::Both);
}

impl Request {
    fn unknown() -> Request {
        Request {
            method: "GET".to_owned(),
            target: String::new(),
            host: None,
        }
    }
}

/// Reads the request head. `Err(None)` when the client sent nothing in
/// time or went away; `Err(Some(reply))` for a request to refuse.
fn read_request(stream: &mut TcpStream) -> Result<Request, Option<Reply>> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    let end = loop {
        if let Some(i) = find(&head, b"\r\n\r\n") {
            break i;
        }
        if head.len() > MAX_HEAD {
            return Err(Some(Reply::text(431, "request head larger than 8 KiB")));
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return Err(None),
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    };
    let text = String::from_utf8_lossy(&head[..end]);
    let mut lines = text.split("\r\n");
    let line = lines.next().unwrap_or("");
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(Some(Reply::text(400, "not an HTTP request line")));
    };
    if !version.starts_with("HTTP/1.") || parts.next().is_some() {
        return Err(Some(Reply::text(400, "not an HTTP/1.x request line")));
    }
    let host = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("host"))
        .map(|(_, value)| value.trim().to_owned());
    Ok(Request {
        method: method.to_owned(),
        target: target.to_owned(),
        host,
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Writes the reply with `Connection: close`; a client that has gone away
/// is not an error worth more than the return value.
fn write_reply(stream: &mut TcpStream, request: &Request, reply: Reply) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n",
        reply.status,
        reason(reply.status),
        reply.content_type,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        // Values are this module's own; never let one end the header.
        let value = value.replace(['\r', '\n'], " ");
        let _ = write!(head, "{name}: {value}\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if request.method != "HEAD" {
        stream.write_all(&reply.body)?;
    }
    stream.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}
