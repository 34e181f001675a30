//! `index.html`: one page for a run, readable offline.
//!
//! Self-contained: every SVG is embedded as a data URL, so the page shows
//! everything even when copied away from its folder. Each picture also links
//! to its file beside the page, where the flamegraph's own search and zoom
//! work (scripts do not run inside an `<img>`). No network: no fonts,
//! scripts or styles from elsewhere.

use std::fmt::Write as _;
use std::path::Path;

use base64::Engine as _;

use crate::sites;
use crate::summary::{ScenarioSummary, Summary};

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An `<img>` of an SVG file under the run folder, linking to the file, or
/// a note when it is missing.
fn picture(run: &Path, rel: &str, alt: &str) -> String {
    match std::fs::read(run.join(rel)) {
        Ok(svg) => format!(
            "<a href=\"{href}\" title=\"open {href} for search and zoom\"><img alt=\"{alt}\" \
             src=\"data:image/svg+xml;base64,{data}\"></a>",
            href = esc(rel),
            alt = esc(alt),
            data = base64::engine::general_purpose::STANDARD.encode(svg)
        ),
        Err(_) => format!("<p class=\"missing\">{} was not produced.</p>", esc(rel)),
    }
}

/// The page for a run whose files are in `run`.
///
/// # Allocation
///
/// The page, and each SVG while it is embedded.
#[must_use]
pub fn render(summary: &Summary, run: &Path) -> String {
    let mut h = String::new();
    let w = &summary.workload;
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>escape-lab run: {name}</title>\n<style>{STYLE}</style></head><body>\n\
         <h1>escape-lab: where the hot path allocates</h1>\n\
         <p>Workload <b>{name}</b>: {patterns} patterns, {bytes} bytes of haystack, \
         {chunk}.{quick}</p>\n",
        name = esc(&w.name),
        patterns = sites::group(w.patterns),
        bytes = sites::group(w.haystack_bytes),
        chunk = if w.chunk == 0 {
            "the whole haystack per call".to_string()
        } else {
            format!("{} bytes per call", sites::group(w.chunk))
        },
        quick = if summary.quick {
            " <b>Quick run</b>: shortened passes, for CI."
        } else {
            ""
        },
    );

    h.push_str(
        "<h2>Comparison</h2>\n<table><tr><th>scenario</th><th>kind</th><th>MB/s</th>\
         <th>ns/call (min–max)</th><th>allocs/call</th><th>B/call</th><th>peak live B</th>\
         <th>CPU samples</th><th>top allocation site</th><th>status</th></tr>\n",
    );
    for s in &summary.scenarios {
        let timing = s.ns_per_call.as_ref().map_or("–".to_string(), |t| {
            format!("{:.0} ({:.0}–{:.0})", t.median, t.min, t.max)
        });
        let site = s
            .sites
            .first()
            .map_or("none".to_string(), |x| esc(&x.location));
        let status = match &s.error {
            None => "ok".to_string(),
            Some(e) => format!("<span class=\"bad\">failed</span>: {}", esc(e)),
        };
        let _ = writeln!(
            h,
            "<tr><td><a href=\"#{n}\">{n}</a></td><td>{kind}</td><td>{mbs}</td><td>{timing}</td>\
             <td>{allocs}</td><td>{bytes}</td><td>{peak}</td><td>{samples}</td><td><code>{site}</code></td>\
             <td>{status}</td></tr>",
            n = esc(&s.name),
            kind = s.kind,
            mbs = s.mb_per_s.map_or("–".to_string(), |v| format!("{v:.1}")),
            allocs = sites::per_call(s.allocs_total, s.calls),
            bytes = sites::per_call(s.bytes_allocated_total, s.calls),
            peak = sites::group(s.peak_live_bytes),
            samples = s.cpu_samples,
        );
    }
    h.push_str(
        "</table>\n<p class=\"note\">allocs/call and B/call: exact, from the counting \
         allocator over whole cycles after a warm-up cycle. Peak live: the most bytes the calls \
         held at once (dhat). Time: median of timed batches under 250 Hz sampling; compare \
         times only within one run.</p>\n",
    );

    if run.join("diff-boxed-vs-fixed.svg").exists() {
        h.push_str(
            "<h2>What the fix removed</h2>\n<p>Allocation stacks of <code>boxed</code> \
             against <code>fixed</code>: every stack drawn is one that <code>fixed</code> \
             no longer has.</p>\n",
        );
        h.push_str(&picture(
            run,
            "diff-boxed-vs-fixed.svg",
            "differential flamegraph",
        ));
    }

    for s in &summary.scenarios {
        scenario_section(&mut h, s, run);
    }

    let _ = write!(
        h,
        "<h2>Opening the raw files</h2>\n<ul>\n\
         <li>CPU profiles with Go's pprof: <code>go tool pprof -top {first}/cpu.pb.gz</code>, \
         or <code>go tool pprof -http=localhost:8080 {first}/cpu.pb.gz</code> for its web UI \
         (run from this folder).</li>\n\
         <li>Heap profiles with valgrind's DHAT viewer: open \
         <code>/usr/libexec/valgrind/dh_view.html</code> (Debian's path; elsewhere look for \
         <code>dh_view.html</code> in valgrind's install) in a browser, press <i>Load…</i> and \
         choose <code>{first}/heap.json</code>.</li>\n\
         <li>Allocation sites as text: <code>{first}/sites.txt</code>; everything as JSON: \
         <code>summary.json</code>.</li>\n</ul>\n</body></html>\n",
        first = esc(summary
            .scenarios
            .first()
            .map_or("SCENARIO", |s| s.name.as_str())),
    );
    h
}

fn scenario_section(h: &mut String, s: &ScenarioSummary, run: &Path) {
    let _ = write!(
        h,
        "<h2 id=\"{n}\">{n}</h2>\n<p>{desc}</p>\n",
        n = esc(&s.name),
        desc = esc(&s.description)
    );
    if let Some(e) = &s.error {
        let _ = writeln!(h, "<pre class=\"bad\">{}</pre>", esc(e));
    }
    if s.artifacts.contains_key("sites_txt") {
        if s.sites.is_empty() {
            h.push_str("<p>Allocation sites: <b>none</b>. Nothing is allocated per call.</p>\n");
        } else {
            h.push_str("<p>Allocation sites (per call, most bytes first):</p>\n<pre>");
            for site in &s.sites {
                let _ = writeln!(h, "{}", esc(&site.line(s.heap_calls)));
            }
            h.push_str("</pre>\n");
        }
    }
    for (key, alt) in [
        ("cpu_svg", "CPU flamegraph"),
        ("alloc_bytes_svg", "bytes allocated, by stack"),
        ("alloc_count_svg", "allocations, by stack"),
    ] {
        if let Some(rel) = s.artifacts.get(key) {
            let _ = writeln!(h, "<h3>{alt}</h3>");
            h.push_str(&picture(run, rel, alt));
        }
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;max-width:1300px}\
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}\
td:first-child,th:first-child,td:last-child{text-align:left}\
img{max-width:100%;border:1px solid #eee}.bad{color:#b00}.note{color:#555;font-size:.9em}\
pre{background:#f6f6f6;padding:.6em;overflow-x:auto}code{background:#f6f6f6}";
