//! Tests of the flamegraph renderers.

use super::*;

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
