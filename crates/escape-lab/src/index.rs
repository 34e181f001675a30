//! `index.html`: one page for a run, readable offline.
//!
//! Built from values in memory, the summary and the pictures the run just
//! drew, never from files read back. Self-contained: every SVG is embedded
//! as a data URL, so the page shows everything even when copied away from
//! its folder. Each picture also links to its file beside the page, where
//! the flamegraph's own search and zoom work (scripts do not run inside an
//! `<img>`). No network: no fonts, scripts or styles from elsewhere.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;

use crate::fmt::{self, html as esc};
use crate::model::{Artifact, Comparison, ScenarioSummary, Summary};

/// The pictures (and source listings) of a run, in memory, for the page.
#[derive(Debug, Default)]
pub struct Pictures {
    scenarios: BTreeMap<String, Vec<(Artifact, Vec<u8>)>>,
    listings: BTreeMap<String, String>,
    comparisons: Vec<(Comparison, Vec<u8>, Vec<u8>)>,
}

impl Pictures {
    /// Keeps a scenario's SVG files and its source listing (other files are
    /// dropped).
    ///
    /// Allocates the scenario's entry.
    pub fn add_scenario(&mut self, name: &str, files: Vec<(Artifact, Vec<u8>)>) {
        let mut svgs = Vec::new();
        for (a, bytes) in files {
            if a.is_svg() {
                svgs.push((a, bytes));
            } else if a == Artifact::ListingTxt {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                self.listings.insert(name.to_string(), text);
            }
        }
        self.scenarios.insert(name.to_string(), svgs);
    }

    /// Keeps a comparison's two SVGs (by allocations, by bytes).
    ///
    /// Allocates a copy of the comparison's names.
    pub fn add_comparison(&mut self, c: &Comparison, count_svg: Vec<u8>, bytes_svg: Vec<u8>) {
        self.comparisons.push((c.clone(), count_svg, bytes_svg));
    }
}

/// An `<img>` of an SVG, linking to its file.
fn picture(rel: &str, alt: &str, svg: &[u8]) -> String {
    format!(
        "<a href=\"{href}\" title=\"open {href} for search and zoom\"><img alt=\"{alt}\" \
         src=\"data:image/svg+xml;base64,{data}\"></a>\n",
        href = esc(rel),
        alt = esc(alt),
        data = base64::engine::general_purpose::STANDARD.encode(svg)
    )
}

/// The page for a run.
///
/// # Allocation
///
/// The page, and each SVG while it is encoded.
#[must_use]
pub fn render(summary: &Summary, pictures: &Pictures) -> String {
    let mut h = String::new();
    let w = &summary.workload;
    let title = if w.name.is_empty() { "run" } else { &w.name };
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>escape-lab: {title}</title>\n<style>{STYLE}</style></head><body>\n\
         <h1>escape-lab: where the hot path allocates</h1>\n",
        title = esc(title),
    );
    if !w.name.is_empty() {
        let _ = write!(h, "<p>Workload <b>{}</b>", esc(&w.name));
        if !w.description.is_empty() {
            let _ = write!(h, ": {}", esc(&w.description));
        }
        h.push_str(".</p>\n");
    }
    if summary.quick {
        h.push_str("<p><b>Quick run</b>: shortened passes, for CI.</p>\n");
    }
    comparison_table(&mut h, summary);
    for (c, count, bytes) in &pictures.comparisons {
        let _ = write!(
            h,
            "<h2>What the fix removed: {b} → {a}</h2>\n<p>Allocation stacks of <code>{b}</code> \
             drawn at their width in <code>{b}</code> and coloured by the change in \
             <code>{a}</code>: deep blue is a stack that <code>{a}</code> no longer has.</p>\n",
            b = esc(&c.before),
            a = esc(&c.after),
        );
        h.push_str(&picture(
            &c.count_svg,
            "differential flamegraph, allocations",
            count,
        ));
        h.push_str(&picture(
            &c.bytes_svg,
            "differential flamegraph, bytes",
            bytes,
        ));
    }
    let none = Vec::new();
    for s in &summary.scenarios {
        scenario_section(&mut h, s, pictures.scenarios.get(&s.name).unwrap_or(&none));
        if let Some(text) = pictures.listings.get(&s.name) {
            let _ = write!(
                h,
                "<details><summary>Source listings: the lines that allocate, the lines that \
                 take the time (<a href=\"{n}/listing.txt\">{n}/listing.txt</a>)</summary>\
                 \n<pre>{}</pre></details>\n",
                esc(text),
                n = esc(&s.name)
            );
        }
    }
    opening_the_files(&mut h, summary);
    h
}

fn comparison_table(h: &mut String, summary: &Summary) {
    h.push_str(
        "<h2>Comparison</h2>\n<table><tr><th>scenario</th><th>kind</th><th>MB/s</th>\
         <th>ns/call (min–max)</th><th>items/call</th><th>allocs/call</th><th>B/call</th>\
         <th>peak live B</th><th>instr/call</th><th>CPU samples</th><th>top site by allocations</th>\
         <th>top site by bytes</th><th>status</th></tr>\n",
    );
    for s in &summary.scenarios {
        let timing = s.cpu.as_ref().map_or("–".to_string(), |c| {
            let t = &c.timing;
            format!("{:.0} ({:.0}–{:.0})", t.median, t.min, t.max)
        });
        let items = match (&s.items_unit, s.count) {
            (Some(unit), Some(_)) => format!("{:.1} {}", s.per_call.items, esc(unit)),
            _ => "–".to_string(),
        };
        let (allocs, bytes) = s.count.map_or(("–".into(), "–".into()), |c| {
            (
                fmt::per_call(c.allocs, c.calls),
                fmt::per_call(c.bytes, c.calls),
            )
        });
        let top_bytes = s.sites.iter().max_by(|a, b| {
            a.bytes
                .cmp(&b.bytes)
                .then_with(|| b.location.cmp(&a.location))
        });
        let site = |x: Option<&crate::model::Site>| {
            x.map_or("none".to_string(), |x| {
                format!(
                    "<code>{}</code> {}/call",
                    esc(&x.location),
                    fmt::per_call(x.allocs, s.heap_calls())
                )
            })
        };
        let status = match s.status.error() {
            None => "ok".to_string(),
            Some(e) => format!(
                "<span class=\"bad\">failed</span>: {}",
                esc(fmt::headline(&e))
            ),
        };
        let _ = writeln!(
            h,
            "<tr><td><a href=\"#{n}\">{n}</a></td><td>{kind}</td><td>{mbs}</td><td>{timing}</td>\
             <td>{items}</td><td>{allocs}</td><td>{bytes}</td><td>{peak}</td><td>{instr}</td><td>{samples}</td>\
             <td>{by_count}</td><td>{by_bytes}</td><td>{status}</td></tr>",
            n = esc(&s.name),
            kind = esc(&s.kind),
            mbs = s
                .per_call
                .mb_per_s
                .map_or("–".to_string(), |v| format!("{v:.1}")),
            peak = s.heap.map_or("–".into(), |x| fmt::group(x.peak_live_bytes)),
            instr = s
                .instr
                .as_ref()
                .map_or("–".into(), |i| fmt::per_call(i.instructions, i.calls)),
            samples = s.cpu.as_ref().map_or(0, |c| c.samples),
            by_count = site(s.sites.first()),
            by_bytes = site(top_bytes),
        );
    }
    h.push_str(
        "</table>\n<p class=\"note\">allocs/call and B/call: exact, from the counting \
         allocator over whole cycles after a warm-up cycle. Peak live: the most bytes the calls \
         held at once (dhat). instr/call: instructions counted by valgrind's callgrind over the \
         same calls (<code>callgrind.out</code> opens in <code>callgrind_annotate</code> and \
         KCachegrind). Time: median of timed batches under 250 Hz sampling; compare \
         times only within one run.</p>\n",
    );
}

fn scenario_section(h: &mut String, s: &ScenarioSummary, svgs: &[(Artifact, Vec<u8>)]) {
    let _ = write!(
        h,
        "<h2 id=\"{n}\">{n}</h2>\n<p>{desc}</p>\n",
        n = esc(&s.name),
        desc = esc(&s.description)
    );
    if let Some(e) = s.status.error() {
        let _ = writeln!(h, "<pre class=\"bad\">{}</pre>", esc(&e));
    }
    for note in &s.notes {
        let _ = writeln!(h, "<p class=\"note\">{}</p>", esc(note));
    }
    if let Some(i) = &s.instr {
        let calls = i.calls;
        h.push_str("<p>Instructions per call, top functions (exclusive, inclusive):</p>\n<pre>");
        for f in &i.functions {
            let _ = writeln!(
                h,
                "{:>14} {:>14}  {}",
                fmt::per_call(f.exclusive, calls),
                fmt::per_call(f.inclusive, calls),
                esc(&f.name)
            );
        }
        h.push_str("</pre>\n");
    }
    if s.heap.is_some() {
        if s.sites.is_empty() {
            h.push_str("<p>Allocation sites: <b>none</b>. Nothing is allocated per call.</p>\n");
        } else {
            h.push_str("<p>Allocation sites (per call, most allocations first):</p>\n<pre>");
            for site in &s.sites {
                let _ = writeln!(h, "{}", esc(&site.line(s.heap_calls())));
            }
            h.push_str("</pre>\n");
        }
    }
    if let Some(r) = &s.reach {
        static_beside_measured(h, s, r);
    }
    for (artifact, svg) in svgs {
        let _ = writeln!(h, "<h3>{}</h3>", artifact.caption());
        let rel = format!("{}/{}", s.name, artifact.file_name());
        h.push_str(&picture(&rel, artifact.caption(), svg));
    }
}

/// The static answer beside the dynamic one, by user line: each way the
/// analysis found with what the heap pass measured there, and each measured
/// site the analysis has no way through (it lies under an unresolved
/// indirect call).
fn static_beside_measured(h: &mut String, s: &ScenarioSummary, r: &crate::reach::Reach) {
    use crate::reach::line_of as key;
    let _ = writeln!(
        h,
        "<p>Ways to the allocator, read from the binary (<code>reach</code>): <b>{}</b>; \
         beside each, what the heap pass measured on that line.</p>",
        r.verdict
    );
    if r.paths.is_empty() && s.sites.is_empty() {
        return;
    }
    h.push_str(
        "<table><tr><th>line</th><th>static: the way to the allocator</th>\
         <th>measured allocs/call</th><th></th></tr>\n",
    );
    let calls = s.heap_calls();
    let measured = |line: &str| {
        s.sites
            .iter()
            .filter(|site| key(&site.location) == line)
            .map(|site| site.allocs)
            .sum::<u64>()
    };
    for p in &r.paths {
        let n = measured(&p.line());
        let mark = if s.heap.is_some() && n == 0 {
            "<span class=\"bad\">can allocate, did not in this run</span>"
        } else {
            ""
        };
        let _ =
            writeln!(
            h,
            "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{mark}</td></tr>",
            esc(&p.location),
            esc(&crate::reach::short_chain(&p.chain)),
            if s.heap.is_some() { fmt::per_call(n, calls) } else { "–".into() },
        );
    }
    for site in &s.sites {
        let line = key(&site.location);
        if r.paths.iter().any(|p| p.line() == line) {
            continue;
        }
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td>no static way: under an unresolved indirect call</td>\
             <td>{}</td><td><span class=\"bad\">measured, not seen statically</span></td></tr>",
            esc(&site.location),
            fmt::per_call(site.allocs, calls)
        );
    }
    h.push_str("</table>\n");
}

fn opening_the_files(h: &mut String, summary: &Summary) {
    let _ = write!(
        h,
        "<h2>Opening the raw files</h2>\n<ul>\n\
         <li>CPU profiles with Go's pprof: <code>go tool pprof -top {first}/cpu.pb.gz</code>, \
         <code>go tool pprof -list FUNCTION {first}/cpu.pb.gz</code>, \
         or <code>go tool pprof -http=localhost:8080 {first}/cpu.pb.gz</code> for its web UI \
         (run from this folder).</li>\n\
         <li>Heap profiles with Go's pprof: \
         <code>go tool pprof -sample_index=alloc_objects -top {first}/heap.pb.gz</code> \
         (totals over the heap pass's calls, which the profile's comments give), \
         <code>-sample_index=alloc_space</code>, <code>-base other/heap.pb.gz</code>.</li>\n\
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
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;max-width:1300px}\
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}\
td:first-child,th:first-child,td:last-child{text-align:left}\
img{max-width:100%;border:1px solid #eee}.bad{color:#b00}.note{color:#555;font-size:.9em}\
pre{background:#f6f6f6;padding:.6em;overflow-x:auto}code{background:#f6f6f6}";
