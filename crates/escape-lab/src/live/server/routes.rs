//! The routes of the live server: parsing a request, answering it (heap
//! and CPU profiles, flamegraphs, the index page), the errors.

use super::*;

/// One answer.
#[derive(Debug)]
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) content_type: &'static str,
    pub(super) headers: Vec<(&'static str, String)>,
    pub(super) body: Vec<u8>,
}

impl Reply {
    pub(super) fn text(status: u16, message: &str) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            headers: Vec::new(),
            body: format!("{message}\n").into_bytes(),
        }
    }

    pub(super) fn profile(name: &str, gz: Vec<u8>) -> Reply {
        Reply {
            status: 200,
            content_type: "application/octet-stream",
            headers: vec![(
                "Content-Disposition",
                format!("attachment; filename=\"{name}\""),
            )],
            body: gz,
        }
    }

    pub(super) fn svg(svg: String) -> Reply {
        Reply {
            status: 200,
            content_type: "image/svg+xml",
            headers: Vec::new(),
            body: svg.into_bytes(),
        }
    }

    pub(super) fn header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_owned()));
        self
    }
}

pub(super) fn route(shared: &Shared, method: &str, url: &str, host: Option<String>) -> Reply {
    if !matches!(method, "GET" | "HEAD") {
        return Reply::text(405, &format!("method {method} not allowed: use GET"))
            .header("Allow", "GET, HEAD");
    }
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let query = match parse_query(query) {
        Ok(q) => q,
        Err(e) => return Reply::text(400, &e),
    };
    let result = match path {
        "/" | "/debug/pprof" => Ok(Reply::text(302, "see /debug/pprof/")
            .header("Location", "/debug/pprof/")),
        "/debug/pprof/" => Ok(index(shared, host)),
        "/debug/pprof/heap" => heap_endpoint(shared, &query, "heap", "inuse_space"),
        "/debug/pprof/allocs" => heap_endpoint(shared, &query, "allocs", "alloc_space"),
        "/debug/pprof/profile" => cpu_endpoint(shared, &query),
        "/debug/pprof/flame/heap" => heap_flame(shared, &query, "inuse_space"),
        "/debug/pprof/flame/allocs" => heap_flame(shared, &query, "alloc_space"),
        "/debug/pprof/flame/profile" => cpu_flame(shared, &query),
        "/debug/pprof/cmdline" => Ok(Reply::text(
            200,
            // Lossy: an argument that is not UTF-8 must not turn the
            // answer into a 500.
            &std::env::args_os()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("\0"),
        )),
        other => Err(Reply::text(
            404,
            &format!(
                "no profile at {other}: see /debug/pprof/ (heap, allocs, profile, flame/..., cmdline)"
            ),
        )),
    };
    result.unwrap_or_else(|e| e)
}

/// `key=value` pairs, `+` and `%XX` decoded; a key given twice keeps the
/// last.
pub(super) fn parse_query(query: &str) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.insert(percent_decode(k)?, percent_decode(v)?);
    }
    Ok(out)
}

pub(super) fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("bad percent-encoding in the query: {s:?}"))?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| format!("the query is not UTF-8: {s:?}"))
}

/// `seconds` from the query: `default` when absent, else a whole number
/// from 1 to the maximum.
pub(super) fn seconds(
    shared: &Shared,
    query: &HashMap<String, String>,
    default: Option<u64>,
) -> Result<Option<u64>, Reply> {
    let max = shared.config.max_seconds;
    match query.get("seconds") {
        None => Ok(default),
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
            _ => Err(Reply::text(
                400,
                &format!("bad seconds={v:?}: give a whole number of seconds from 1 to {max}"),
            )),
        },
    }
}

pub(super) fn heap_endpoint(
    shared: &Shared,
    query: &HashMap<String, String>,
    name: &str,
    default_type: &str,
) -> Result<Reply, Reply> {
    if let Some(d) = query.get("debug").filter(|d| d.as_str() != "0") {
        return Err(Reply::text(
            400,
            &format!(
                "debug={d} (text output) is not served: fetch the protobuf and use go tool pprof -top"
            ),
        ));
    }
    let delta = seconds(shared, query, None)?;
    let profile = heap(shared, delta, default_type)?;
    let gz = encode::to_gzip(&profile).map_err(|e| internal(&e))?;
    Ok(Reply::profile(name, gz))
}

/// The heap profile now, or over the next `delta` seconds.
pub(super) fn heap(
    shared: &Shared,
    delta: Option<u64>,
    default_type: &str,
) -> Result<Profile, Reply> {
    let before = delta.map(|_| sampler::snapshot());
    if let Some(d) = delta {
        if !shared.wait(Duration::from_secs(d)) {
            return Err(Reply::text(503, "the profile server is stopping"));
        }
    }
    let mut snap = sampler::snapshot();
    // At the same moment as the snapshot, so counts in them (calls made so
    // far) match its totals.
    let comments = shared.comments();
    if let Some(b) = &before {
        snap = snap.since(b);
    }
    let mappings = mapping::current_process().unwrap_or_default();
    let comments: Vec<&str> = comments.iter().map(String::as_str).collect();
    let mut symbolizer = shared
        .symbolizer
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    Ok(report::heap_profile(
        &snap,
        &mut symbolizer,
        &HeapProfileOptions {
            default_sample_type: default_type,
            mappings: &mappings,
            delta: delta.map(Duration::from_secs),
            comments: &comments,
            ..HeapProfileOptions::default()
        },
    ))
}

pub(super) fn cpu_endpoint(
    shared: &Shared,
    query: &HashMap<String, String>,
) -> Result<Reply, Reply> {
    let secs = seconds(shared, query, Some(DEFAULT_CPU_SECONDS))?.unwrap_or(DEFAULT_CPU_SECONDS);
    let profile = cpu_profile(shared, secs)?;
    let gz = encode::to_gzip(&profile).map_err(|e| internal(&e))?;
    Ok(Reply::profile("profile", gz))
}

/// Clears the busy flag when the CPU profile ends, however it ends.
pub(super) struct Busy<'a>(&'a AtomicBool);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

pub(super) fn cpu_profile(shared: &Shared, secs: u64) -> Result<Profile, Reply> {
    let busy = || {
        Reply::text(
            409,
            "a CPU profile is already being taken (one at a time); try again when it is done",
        )
        .header("Retry-After", "5")
    };
    if shared.cpu_busy.swap(true, Ordering::SeqCst) {
        return Err(busy());
    }
    let _busy = Busy(&shared.cpu_busy);
    // pprof-rs allows one profiler per process: another part of the
    // program may hold it.
    let profiler = cpu::CpuProfiler::start(shared.config.cpu_hz)
        .map_err(|e| busy().header("X-Escape-Lab-Error", &crate::fmt::error_chain(&e)))?;
    if !shared.wait(Duration::from_secs(secs)) {
        return Err(Reply::text(503, "the profile server is stopping"));
    }
    let samples = profiler.stop().map_err(|e| internal(&e))?;
    let mappings = mapping::current_process().unwrap_or_default();
    let mut comments = vec![format!(
        "escape-lab live CPU profile: {secs} s of every thread at {} Hz (pprof-rs)",
        samples.frequency_hz
    )];
    comments.extend(shared.comments());
    let comments: Vec<&str> = comments.iter().map(String::as_str).collect();
    let mut symbolizer = shared
        .symbolizer
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    Ok(encode::cpu_profile(
        &samples,
        &mut symbolizer,
        &encode::CpuProfileOptions {
            mappings: &mappings,
            comments: &comments,
            ..encode::CpuProfileOptions::default()
        },
    ))
}

pub(super) fn heap_flame(
    shared: &Shared,
    query: &HashMap<String, String>,
    default_type: &str,
) -> Result<Reply, Reply> {
    let wanted = query
        .get("sample_index")
        .map_or(default_type, String::as_str);
    let Some(index) = SAMPLE_TYPES.iter().position(|(t, _)| *t == wanted) else {
        let names: Vec<&str> = SAMPLE_TYPES.iter().map(|(t, _)| *t).collect();
        return Err(Reply::text(
            400,
            &format!("bad sample_index={wanted:?}: one of {}", names.join(", ")),
        ));
    };
    let delta = seconds(shared, query, None)?;
    let profile = heap(shared, delta, default_type)?;
    let folded =
        fold::fold(&profile, index, &fold::FoldOptions::default()).map_err(|e| internal(&e))?;
    let (what, unit) = match wanted {
        "alloc_objects" => ("allocations (estimated)", "allocations"),
        "alloc_space" => ("bytes allocated (estimated)", "bytes"),
        "inuse_objects" => ("live objects (estimated)", "objects"),
        _ => ("live bytes (estimated)", "bytes"),
    };
    let title = match delta {
        Some(s) => format!("{what} over {s} s, sampled"),
        None => format!("{what}, sampled"),
    };
    // In a delta profile in-use can fall: those stacks have negative values
    // and are left out of the graph.
    let svg = crate::flame::alloc_svg(&folded, &title, unit).map_err(|e| internal(&e))?;
    Ok(Reply::svg(svg))
}

pub(super) fn cpu_flame(shared: &Shared, query: &HashMap<String, String>) -> Result<Reply, Reply> {
    let secs =
        seconds(shared, query, Some(DEFAULT_FLAME_SECONDS))?.unwrap_or(DEFAULT_FLAME_SECONDS);
    let profile = cpu_profile(shared, secs)?;
    let folded =
        fold::fold(&profile, 0, &fold::FoldOptions::default()).map_err(|e| internal(&e))?;
    let svg = crate::flame::cpu_svg(&folded, &format!("CPU, {secs} s of every thread"))
        .map_err(|e| internal(&e))?;
    Ok(Reply::svg(svg))
}

pub(super) fn internal(e: &dyn std::error::Error) -> Reply {
    Reply::text(500, &crate::fmt::error_chain(e))
}

/// The index page.
pub(super) fn index(shared: &Shared, host: Option<String>) -> Reply {
    use crate::fmt::{group, html};
    let host = host.unwrap_or_else(|| shared.addr.to_string());
    let base = format!("http://{host}/debug/pprof");
    let st = sampler::stats();
    let rate = sampler::rate();
    let max = shared.config.max_seconds;
    let mut p = String::new();
    p.push_str(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>/debug/pprof/</title>\n\
         <style>body{font-family:sans-serif;max-width:1240px;margin:1em auto;padding:0 1em}\
         table{border-collapse:collapse}td,th{padding:3px 10px;text-align:left;vertical-align:top}\
         tr:nth-child(even){background:#f4f4f4}pre{background:#f4f4f4;padding:8px;overflow-x:auto}\
         object{width:100%;border:1px solid #ddd}.warn{color:#a00}</style></head><body>\n",
    );
    let _ = writeln!(
        p,
        "<h1>/debug/pprof/</h1>\n<p>Live profiles of process {} ({}), up {:.0} s.</p>",
        std::process::id(),
        html(&std::env::args().collect::<Vec<_>>().join(" ")),
        shared.started.elapsed().as_secs_f64()
    );
    p.push_str("<table><tr><th>profile</th><th>what</th></tr>\n");
    let rows: [(&str, &str); 6] = [
        ("allocs", "A sampling of all allocations since sampling started (default sample type alloc_space). <code>?seconds=N</code>: only the next N seconds."),
        ("heap", "A sampling of the memory in use now (default sample type inuse_space). <code>?seconds=N</code>: a delta over the next N seconds."),
        ("profile?seconds=30", "CPU profile of every thread for N seconds (one at a time)."),
        ("flame/heap", "Flamegraph of the heap in use (<code>?sample_index=inuse_objects</code>, <code>alloc_space</code>, ...)."),
        ("flame/allocs", "Flamegraph of the bytes allocated."),
        ("cmdline", "The command line, arguments separated by NUL bytes."),
    ];
    for (path, what) in rows {
        let _ = writeln!(
            p,
            "<tr><td><a href=\"{path}\">{}</a></td><td>{what}</td></tr>",
            html(path)
        );
    }
    p.push_str("</table>\n<h2>With go tool pprof</h2>\n<pre>");
    for cmd in [
        format!("go tool pprof -sample_index=alloc_space -top {base}/allocs"),
        format!("go tool pprof -top {base}/heap"),
        format!("go tool pprof -top {base}/profile?seconds=10"),
        format!("go tool pprof -http=localhost:8080 {base}/allocs"),
    ] {
        let _ = writeln!(p, "{}", html(&cmd));
    }
    p.push_str("</pre>\n<h2>Sampler</h2>\n<p>");
    if rate == 0 {
        p.push_str("Heap sampling is <b>off</b> (rate 0). ");
    } else {
        let _ = write!(
            p,
            "One allocation sampled per {} bytes on average. ",
            group(rate)
        );
    }
    let _ = write!(
        p,
        "{} allocations sampled, {} distinct stacks, {} sampled blocks live.",
        group(st.samples),
        group(st.stacks),
        group(st.live)
    );
    if st.stack_overflow + st.untracked + st.truncated > 0 {
        let _ = write!(
            p,
            " Tables: {} samples in the overflow bucket, {} blocks untracked, {} stacks truncated.",
            group(st.stack_overflow),
            group(st.untracked),
            group(st.truncated)
        );
    }
    if st.samples == 0 {
        p.push_str(
            " <span class=\"warn\">Nothing sampled yet: the heap profiles stay empty unless the \
             program's global allocator is <code>escape_lab::live::SamplingAlloc</code> (or \
             <code>escape_lab::Alloc</code> in the sampling mode).</span>",
        );
    }
    p.push_str("</p>\n");
    let comments = shared.comments();
    if !comments.is_empty() {
        p.push_str("<ul>");
        for c in comments {
            let _ = write!(p, "<li>{}</li>", html(&c));
        }
        p.push_str("</ul>\n");
    }
    let _ = writeln!(
        p,
        "<h2>Heap in use</h2>\n<object type=\"image/svg+xml\" data=\"flame/heap\">no flamegraph</object>\n\
         <h2>Allocated since sampling started</h2>\n<object type=\"image/svg+xml\" data=\"flame/allocs\">no flamegraph</object>\n\
         <h2>CPU, {DEFAULT_FLAME_SECONDS} s</h2>\n<object type=\"image/svg+xml\" data=\"flame/profile?seconds={DEFAULT_FLAME_SECONDS}\">\
         no CPU flamegraph: another CPU profile may be running (reload when it is done)</object>\n\
         <p>Anyone who can reach this address can read the program's stacks and make it spend CPU: \
         serve it on loopback only (<code>seconds</code> is limited to {max}).</p>\n</body></html>"
    );
    Reply {
        status: 200,
        content_type: "text/html; charset=utf-8",
        headers: Vec::new(),
        body: p.into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn queries_decode() {
        let q = parse_query("seconds=5&sample_index=alloc%5Fspace&x=a+b&flag").unwrap();
        assert_eq!(q["seconds"], "5");
        assert_eq!(q["sample_index"], "alloc_space");
        assert_eq!(q["x"], "a b");
        assert_eq!(q["flag"], "");
        assert!(parse_query("a=%zz").unwrap_err().contains("percent"));
        assert!(parse_query("a=%ff").unwrap_err().contains("UTF-8"));
    }

    #[test]
    pub(super) fn port_only_means_loopback() {
        let a = resolve(":8787").unwrap();
        assert!(a.iter().all(|a| a.ip().is_loopback() && a.port() == 8787));
        let a = resolve("127.0.0.1:0").unwrap();
        assert_eq!(a[0].port(), 0);
        let e = resolve("nonsense").unwrap_err().to_string();
        assert!(e.contains("\"nonsense\""), "{e}");
    }
}
