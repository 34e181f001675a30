//! Tests of the flamegraph renderers and the pprof folding.
use std::hint::black_box;
use std::time::{Duration, Instant};

use pprof::{Frames, Report, Symbol};

use super::*;

fn symbol(name: &str) -> Symbol {
    Symbol {
        name: Some(name.as_bytes().to_vec()),
        addr: None,
        lineno: None,
        filename: None,
    }
}

// A report whose stacks are given root first, one inner list per
// address (innermost inlined function last), as a reader thinks of them.
fn report(stacks: &[(&[&[&str]], isize)]) -> Report {
    let mut data = std::collections::HashMap::new();
    for (i, &(stack, count)) in stacks.iter().enumerate() {
        let frames = stack
            .iter()
            .rev()
            .map(|inlined| inlined.iter().rev().map(|n| symbol(n)).collect())
            .collect();
        let key = Frames {
            frames,
            thread_name: "worker".to_owned(),
            // Distinct ids keep equal stacks apart in the map, as they
            // are when two threads sample the same code.
            thread_id: i as u64,
            sample_timestamp: std::time::SystemTime::UNIX_EPOCH,
        };
        data.insert(key, count);
    }
    Report {
        data,
        timing: Default::default(),
    }
}

// Parses `svg` as XML and returns all its text, failing on any error.
fn svg_text(svg: &str) -> String {
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut text = String::new();
    let mut elements = 0;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(quick_xml::events::Event::Start(_) | quick_xml::events::Event::Empty(_)) => {
                elements += 1
            }
            Ok(quick_xml::events::Event::Text(t)) => {
                text.push_str(&t.decode().expect("text decodes"));
            }
            // quick-xml reports `&lt;` and the like apart from the text.
            Ok(quick_xml::events::Event::GeneralRef(r)) => {
                let c = match r.resolve_char_ref().expect("valid reference") {
                    Some(c) => c,
                    None => match &*r.decode().expect("reference decodes") {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "quot" => '"',
                        "apos" => '\'',
                        other => panic!("unknown entity &{other}; in {svg}"),
                    },
                };
                text.push(c);
            }
            Ok(quick_xml::events::Event::End(_)) => text.push('\n'),
            Ok(_) => {}
            Err(e) => panic!("not valid XML at {}: {e}\n{svg}", reader.error_position()),
        }
    }
    assert!(elements > 0, "no element in {svg}");
    assert!(svg.contains("<svg"), "not an SVG: {svg}");
    text
}

#[test]
fn folding_orders_root_first_merges_and_sorts() {
    let r = report(&[
        (&[&["main"], &["run"], &["scan"]], 3),
        (&[&["main"], &["run"], &["scan"]], 4),
        // One address whose symbols are `run` with `helper` inlined.
        (&[&["main"], &["run", "helper"]], 2),
        (&[&["main"], &["alpha"]], 1),
        (&[&["main"], &["[u8; 4]::fmt"]], 1),
        (&[&["main"], &["never"]], 0),
    ]);
    assert_eq!(
        fold_report(&r),
        "main;[u8: 4]::fmt 1\nmain;alpha 1\nmain;run;helper 2\nmain;run;scan 7\n"
    );
    assert_eq!(fold_report(&report(&[])), "");
}

#[test]
fn folding_demangles() {
    let r = report(&[(
        &[&["_ZN3foo3barE"], &["_ZN3foo3baz17h0123456789abcdefE"]],
        5,
    )]);
    assert_eq!(fold_report(&r), "foo::bar;foo::baz 5\n");
}

#[test]
fn svgs_parse_and_name_their_frames() {
    let folded = "main;demo::scan 70\nmain;demo::scan;alloc::alloc::alloc 30\n";
    for svg in [
        cpu_svg(folded, "cpu <title> & more").unwrap(),
        alloc_svg(folded, "bytes", "bytes").unwrap(),
        alloc_svg(folded, "count", "allocations").unwrap(),
        diff_svg(folded, "main;demo::scan 70\n", "diff", "bytes").unwrap(),
    ] {
        let text = svg_text(&svg);
        assert!(text.contains("demo::scan"), "{text}");
        assert!(text.contains("alloc::alloc::alloc"), "{text}");
    }
    let cpu = svg_text(&cpu_svg(folded, "cpu <title> & more").unwrap());
    assert!(cpu.contains("cpu <title> & more"), "{cpu}");
    assert!(cpu.contains("samples"), "{cpu}");
    let count = svg_text(&alloc_svg(folded, "count", "allocations").unwrap());
    assert!(count.contains("30 allocations"), "{count}");
}

#[test]
fn empty_input_gives_a_valid_svg_that_says_so() {
    let cases = [
        (cpu_svg("", "idle").unwrap(), "no samples"),
        (cpu_svg("main 0\n", "idle").unwrap(), "no samples"),
        (
            alloc_svg("", "borrowed & <co>", "bytes").unwrap(),
            "no allocations",
        ),
        (
            alloc_svg("\n\n", "borrowed", "allocations").unwrap(),
            "no allocations",
        ),
        (
            diff_svg("", "", "borrowed", "bytes").unwrap(),
            "no allocations",
        ),
        (
            diff_svg("", "main;x 3\n", "borrowed", "bytes").unwrap(),
            "no allocations",
        ),
    ];
    for (svg, message) in cases {
        let text = svg_text(&svg);
        assert!(text.contains(message), "{text}");
    }
    let text = svg_text(&alloc_svg("", "borrowed & <co>", "bytes").unwrap());
    assert!(text.contains("borrowed & <co>"), "{text}");
}

#[test]
fn diff_draws_a_stack_present_only_before() {
    let before = "main;owned::find;alloc::boxed::Box::new 1000\nmain;scan 500\n";
    let after = "main;scan 500\n";
    let svg = diff_svg(before, after, "owned to borrowed", "bytes").unwrap();
    let text = svg_text(&svg);
    assert!(text.contains("alloc::boxed::Box::new"), "{text}");
    assert!(text.contains("owned::find"), "{text}");
    // The vanished stack is shown as a decrease of all of it.
    assert!(text.contains("-66.67%"), "{text}");
}

#[test]
fn output_is_deterministic() {
    let folded = "main;a;b 3\nmain;a;c 5\nmain;d 1\n";
    assert_eq!(cpu_svg(folded, "t").unwrap(), cpu_svg(folded, "t").unwrap());
    assert_eq!(
        alloc_svg(folded, "t", "bytes").unwrap(),
        alloc_svg(folded, "t", "bytes").unwrap()
    );
    assert_eq!(
        diff_svg(folded, "main;d 1\n", "t", "bytes").unwrap(),
        diff_svg(folded, "main;d 1\n", "t", "bytes").unwrap()
    );
}

#[test]
fn errors_are_send_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<FlameError>();
}

#[test]
fn pprof_bytes_are_gzip_of_a_profile() {
    use pprof::protos::Message as _;
    use std::io::Read as _;

    let gz = pprof_gz(&report(&[(&[&["main"], &["scan"]], 4)])).unwrap();
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .read_to_end(&mut raw)
        .unwrap();
    let profile = pprof::protos::Profile::decode(raw.as_slice()).unwrap();
    assert_eq!(profile.sample.len(), 1);
    assert_eq!(profile.sample[0].value[0], 4);
    assert!(profile.string_table.iter().any(|s| s == "scan"));
}

// Burns CPU in a function whose name the samples must show.
#[inline(never)]
fn flame_test_spin_loop(until: Instant) -> u64 {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    while Instant::now() < until {
        for _ in 0..10_000 {
            x = black_box(x.rotate_left(5) ^ 0x2545_F491_4F6C_DD1D).wrapping_mul(3);
        }
    }
    x
}

#[test]
fn real_profile_shows_the_spinning_function() {
    let guard = start_cpu_profiler(10_000).expect("profiler starts");
    black_box(flame_test_spin_loop(
        Instant::now() + Duration::from_millis(300),
    ));
    let report = guard.report().build().expect("report builds");
    drop(guard);
    assert_eq!(report.timing.frequency, MAX_FREQUENCY_HZ, "clamped");
    let folded = fold_report(&report);
    let spinning = folded
        .lines()
        .filter(|l| l.contains("flame_test_spin_loop"))
        .count();
    assert!(spinning > 0, "no sample in the spin loop:\n{folded}");
    let svg = cpu_svg(&folded, "spin").unwrap();
    assert!(svg_text(&svg).contains("flame_test_spin_loop"));
}
