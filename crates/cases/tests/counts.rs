//! Exact allocations and bytes per call of every form of every case: the
//! `# Allocation` sections of the case modules and the README's tables,
//! checked with the counting allocator.
//!
//! One table, [`EXPECTED`], holds every form's figures; one runner measures
//! each form the way the harness does (one warm-up call, then [`CALLS`]
//! calls) and requires every measured call to be identical. Positive
//! controls: the allocator is shown to count at all, and every case has a
//! form that allocates, so a zero is never the zero of a dead counter.
//!
//! The README's tables are rendered from these measurements, and a test
//! fails when the README says anything else. To regenerate them:
//!
//! ```text
//! cargo test -p cases --release --test counts -- --nocapture readme
//! ```

#[global_allocator]
static ALLOC: countalloc::CountingAlloc = countalloc::CountingAlloc;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::hint::black_box;

use cases::append::{self, Growth, GROWTH};
use cases::{Case, Form};
use countalloc::{measure, Counts};

/// Calls measured per form after the warm-up call.
const CALLS: usize = 10;

/// `<case>.<form>` → (allocations, bytes) per call, after one warm-up call.
const EXPECTED: &[(&str, u64, u64)] = &[
    // 16 tokens, one 24-byte Box each.
    ("interface.box_dyn_any", 16, 384),
    ("interface.typed_vec", 0, 0),
    ("interface.generic_buffer", 0, 0),
    // format! sizes its String for the literal (2 × 4 = 8 bytes) and grows it
    // to 16 for the 14-byte text.
    ("fmt.format_macro", 2, 24),
    ("fmt.to_string", 1, 10),
    ("fmt.write_reused_string", 0, 0),
    ("method.dyn_ref", 0, 0),
    ("method.generic", 0, 0),
    ("method.box_dyn", 1, 16),
    // 16 words of 69 bytes in all: a 24-byte Box and the word per word.
    ("slices.vec_box_string", 32, 453),
    ("slices.vec_string", 16, 69),
    ("slices.vec_str", 0, 0),
    ("make.with_capacity_runtime_n", 1, 2_048),
    ("make.array_const_n", 0, 0),
    ("make.array_64k", 0, 0),
    ("make.vec_64k", 1, 65_536),
    ("make.boxed_slice_64k", 1, 65_536),
    // Capacities 4, 8, ..., 1,024 of 8 bytes.
    ("append.push_1000", 9, 16_352),
    ("append.with_capacity_1000", 1, 8_000),
    ("append.reused_1000", 0, 0),
    // Vec<u8>'s minimum capacity is 8.
    ("alias.clone_then_push", 2, 16),
    ("alias.from_scratch", 2, 2),
    ("alias.split_at_mut", 0, 0),
    ("return_ref.box_return", 1, 32),
    ("return_ref.by_value", 0, 0),
    ("return_ref.out_param", 0, 0),
];

/// Every scenario name, `<case>.<form>`, in `all()` order.
fn scenarios() -> Vec<(String, &'static Case, &'static Form)> {
    cases::all()
        .iter()
        .flat_map(|c| {
            c.forms
                .iter()
                .map(move |f| (format!("{}.{}", c.name, f.name), c, f))
        })
        .collect()
}

/// Allocations and bytes of one call of `form`, measured as the harness
/// does: one warm-up call, then [`CALLS`] calls that must all be identical.
/// Also requires the steady state: what a call allocates is freed (by that
/// call or the next), so nothing accumulates.
fn per_call(scenario: &str, form: &Form) -> (u64, u64) {
    let mut call = (form.setup)();
    black_box(call());
    let mut each = [Counts::default(); CALLS];
    for slot in &mut each {
        *slot = measure(|| black_box(call())).1;
    }
    for c in &each {
        assert_eq!(*c, each[0], "{scenario}: calls differ: {each:?}");
    }
    let c = each[0];
    assert_eq!(
        (c.frees, c.freed_bytes),
        (c.allocs, c.bytes),
        "{scenario}: a call must free what a call allocates: {c:?}"
    );
    (c.allocs, c.bytes)
}

/// Every scenario with its measured figures, in `all()` order.
fn measure_all() -> Vec<(String, &'static Case, &'static Form, u64, u64)> {
    scenarios()
        .into_iter()
        .map(|(name, c, f)| {
            let (allocs, bytes) = per_call(&name, f);
            (name, c, f, allocs, bytes)
        })
        .collect()
}

fn is_snake_case(s: &str) -> bool {
    s.split('_').all(|w| {
        !w.is_empty()
            && w.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    }) && s.starts_with(|c: char| c.is_ascii_lowercase())
}

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[test]
fn the_counter_counts() {
    assert!(countalloc::is_active());
}

#[test]
fn every_form_allocates_exactly_as_documented() {
    assert!(countalloc::is_active(), "positive control");
    let mut wrong = Vec::new();
    for (name, _, _, allocs, bytes) in measure_all() {
        let want = EXPECTED.iter().find(|e| e.0 == name).map(|e| (e.1, e.2));
        if want != Some((allocs, bytes)) {
            wrong.push(format!(
                "    (\"{name}\", {allocs}, {bytes}), // expected {want:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "measured:\n{}", wrong.join("\n"));
}

#[test]
fn every_case_has_an_allocating_and_a_non_allocating_form() {
    let measured = measure_all();
    for case in cases::all() {
        let figures: Vec<u64> = measured
            .iter()
            .filter(|m| m.1.name == case.name)
            .map(|m| m.3)
            .collect();
        assert!(figures.iter().any(|&a| a > 0), "{}: {figures:?}", case.name);
        assert!(figures.contains(&0), "{}: {figures:?}", case.name);
    }
}

#[test]
fn the_table_covers_exactly_the_forms() {
    let forms: BTreeSet<String> = scenarios().into_iter().map(|s| s.0).collect();
    let table: BTreeSet<String> = EXPECTED.iter().map(|e| e.0.to_string()).collect();
    assert_eq!(table.len(), EXPECTED.len(), "duplicate rows in EXPECTED");
    let missing: Vec<_> = forms.difference(&table).collect();
    let extra: Vec<_> = table.difference(&forms).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
}

#[test]
fn cases_are_in_the_article_order() {
    let names: Vec<&str> = cases::all().iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        [
            "interface",
            "fmt",
            "method",
            "slices",
            "make",
            "append",
            "alias",
            "return_ref"
        ]
    );
}

#[test]
fn names_are_unique_snake_case_and_texts_one_line() {
    let mut cases_seen = BTreeSet::new();
    for case in cases::all() {
        assert!(is_snake_case(case.name), "{}", case.name);
        assert!(cases_seen.insert(case.name), "duplicate case {}", case.name);
        assert!((2..=5).contains(&case.forms.len()), "{}", case.name);
        let mut forms_seen = BTreeSet::new();
        for form in case.forms {
            assert!(is_snake_case(form.name), "{}.{}", case.name, form.name);
            assert!(
                forms_seen.insert(form.name),
                "duplicate {}.{}",
                case.name,
                form.name
            );
            assert!(!form.description.is_empty() && !form.description.contains('\n'));
        }
        // They go into one-line markdown table cells.
        for text in [case.title, case.go, case.rust] {
            assert!(!text.is_empty() && !text.contains(['\n', '|']), "{text}");
        }
    }
    assert!(is_snake_case("box_dyn_any") && is_snake_case("array_64k"));
    assert!(!is_snake_case("Box") && !is_snake_case("a__b") && !is_snake_case("_a"));
    assert!(!is_snake_case("a-b") && !is_snake_case("9a") && !is_snake_case(""));
}

#[test]
fn find_finds_every_form_and_nothing_else() {
    for (name, case, form) in scenarios() {
        let (c, f) = cases::find(&name).expect(&name);
        assert!(std::ptr::eq(c, case) && std::ptr::eq(f, form), "{name}");
    }
    for bad in [
        "",
        "interface",
        "interface.",
        ".box_dyn_any",
        "box_dyn_any",
        "nope.box_dyn_any",
        "interface.nope",
        "interface.box_dyn_any.x",
        "Interface.box_dyn_any",
    ] {
        assert!(cases::find(bad).is_none(), "{bad:?}");
    }
}

#[test]
fn find_allocates_nothing() {
    let (found, counts) = measure(|| cases::find("return_ref.out_param").is_some());
    assert!(found);
    assert_eq!(counts, Counts::default());
}

/// Pushing `n` `u64`s into an empty `Vec`, measured.
fn measured_growth(n: u64) -> Growth {
    let (v, c) = measure(|| append::push_n(n as usize));
    assert_eq!(v.len() as u64, n);
    Growth {
        allocs: c.allocs,
        bytes: c.bytes,
    }
}

#[test]
fn the_growth_table_is_measured_and_computed() {
    assert!(countalloc::is_active(), "positive control");
    assert_eq!(
        GROWTH.map(|r| r.n),
        [10, 1_000, 1_000_000],
        "the rows the docs promise"
    );
    for row in GROWTH {
        let n = row.n;
        assert_eq!(measured_growth(n), row.rust, "Rust, measured, n = {n}");
        assert_eq!(
            append::rust_vec_growth(n, 8),
            row.rust,
            "Rust model, n = {n}"
        );
        assert_eq!(append::go_article_growth(n, 8), row.go_article, "n = {n}");
        assert_eq!(append::go_1_18_growth(n, 8), row.go_1_18, "n = {n}");
    }
}

#[test]
fn the_rust_growth_model_matches_std_for_other_element_sizes() {
    // The minimum capacity depends on the element size: 8 for bytes, 4 up to
    // 1 KiB, 1 above.
    fn pushed<T>(n: usize, item: fn() -> T) -> Growth {
        let (v, c) = measure(|| {
            let mut v = Vec::new();
            for _ in 0..n {
                v.push(black_box(item()));
            }
            v
        });
        drop(black_box(v));
        Growth {
            allocs: c.allocs,
            bytes: c.bytes,
        }
    }
    for n in [1, 5, 9, 100] {
        assert_eq!(
            pushed(n, || 0u8),
            append::rust_vec_growth(n as u64, 1),
            "u8, n = {n}"
        );
        assert_eq!(
            pushed(n, || 0u32),
            append::rust_vec_growth(n as u64, 4),
            "u32, n = {n}"
        );
        assert_eq!(
            pushed(n, || [0u8; 2048]),
            append::rust_vec_growth(n as u64, 2048),
            "[u8; 2048], n = {n}"
        );
    }
    assert_eq!(append::rust_vec_growth(1, 1).bytes, 8);
    assert_eq!(append::rust_vec_growth(1, 2048).bytes, 2048);
}

#[test]
fn the_go_models_follow_their_rules() {
    // Article rule: 1, 2, 4, ..., 1,024, then +25%: 1,280, 1,600, ...
    let caps = |g: fn(u64, u64) -> Growth, n| g(n, 1).bytes;
    assert_eq!(caps(append::go_article_growth, 1_024), 2_047);
    assert_eq!(caps(append::go_article_growth, 1_025), 2_047 + 1_280);
    assert_eq!(
        caps(append::go_article_growth, 1_281),
        2_047 + 1_280 + 1_600
    );
    // Go ≥ 1.18: 1, 2, ..., 256, then 256 + (256 + 768) / 4 = 512, then 832.
    assert_eq!(caps(append::go_1_18_growth, 256), 511);
    assert_eq!(caps(append::go_1_18_growth, 257), 511 + 512);
    assert_eq!(caps(append::go_1_18_growth, 513), 511 + 512 + 832);
}

/// The README's case table, from measurements: one row per case, its forms
/// in the last cell.
fn case_table(measured: &[(String, &'static Case, &'static Form, u64, u64)]) -> String {
    let mut t = String::from(
        "| case | Go (article) | Rust | measured per call: allocations, bytes |\n\
         |---|---|---|---|\n",
    );
    for case in cases::all() {
        let forms: Vec<String> = measured
            .iter()
            .filter(|m| m.1.name == case.name)
            .map(|(_, _, form, allocs, bytes)| {
                let s = if *allocs == 1 { "" } else { "s" };
                format!(
                    "`{}`: {} alloc{s}, {} B",
                    form.name,
                    thousands(*allocs),
                    thousands(*bytes)
                )
            })
            .collect();
        writeln!(
            t,
            "| `{}` | {} | {} | {} |",
            case.name,
            case.go,
            case.rust,
            forms.join("<br>")
        )
        .unwrap();
    }
    t
}

/// The growth table, from measurements (Rust) and the models (Go).
fn growth_table() -> String {
    let mut t = String::from(
        "| N | Rust, measured: allocs | bytes | Go, article rule, computed: allocs | bytes | Go ≥ 1.18 rule, computed: allocs | bytes |\n\
         |---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in GROWTH {
        let rust = measured_growth(row.n);
        let (a, b) = (
            append::go_article_growth(row.n, 8),
            append::go_1_18_growth(row.n, 8),
        );
        writeln!(
            t,
            "| {} | {} | {} | {} | {} | {} | {} |",
            thousands(row.n),
            thousands(rust.allocs),
            thousands(rust.bytes),
            thousands(a.allocs),
            thousands(a.bytes),
            thousands(b.allocs),
            thousands(b.bytes)
        )
        .unwrap();
    }
    t
}

#[test]
fn readme_tables_are_the_measured_ones() {
    assert!(countalloc::is_active(), "positive control");
    let cases = case_table(&measure_all());
    let growth = growth_table();
    println!("{cases}\n{growth}");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).expect("crates/cases/README.md");
    assert!(
        readme.contains(&cases),
        "README.md's case table is not the measured one:\n{cases}"
    );
    assert!(
        readme.contains(&growth),
        "README.md's growth table is not the measured one:\n{growth}"
    );
    // The module docs of `append` carry the growth table too.
    let docs = concat!(env!("CARGO_MANIFEST_DIR"), "/src/append.rs");
    let docs = std::fs::read_to_string(docs).expect("src/append.rs");
    let as_doc: String = growth.lines().map(|l| format!("//! {l}\n")).collect();
    assert!(
        docs.contains(&as_doc),
        "src/append.rs's growth table is not the measured one:\n{as_doc}"
    );
}
