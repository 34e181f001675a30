//! Tests of [`super::listing`](super).
use super::*;

#[test]
fn long_gaps_are_elided_and_short_files_clipped() {
    let dir = tempfile::tempdir().unwrap();
    let text: String = (1..=50).map(|i| format!("line {i}\n")).collect();
    std::fs::write(dir.path().join("a.rs"), text).unwrap();
    let sources = SourceIndex::new(dir.path());
    let file = dir.path().join("a.rs").to_string_lossy().into_owned();
    let c = |line: u32, n: i64| LineCost {
        function: "f".into(),
        file: file.clone(),
        line,
        flat: vec![n],
        cum: vec![n],
    };
    let out = listing(
        &[c(3, 1), c(5, 1), c(49, 2)],
        &ListingOptions {
            title: "t",
            value_names: &["samples"],
            figures: Figures::ShareOfTotal { totals: vec![4] },
            top: 1,
            context: 1,
            max_gap: 8,
            sources: &sources,
            legend: &[],
        },
    );
    let shown: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("ROUTINE"))
        .skip(3)
        .map(|l| {
            l.trim_start_matches([
                ' ', '.', '%', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9',
            ])
        })
        .collect();
    assert_eq!(
        shown,
        ["line 2", "line 3", "line 4", "line 5", "line 6", "", "line 48", "line 49", "line 50"],
        "{out}"
    );
    assert!(out.contains("   ...\n"), "{out}");
    assert!(
        out.contains("ROUTINE ======================== f in a.rs"),
        "{out}"
    );
}

#[test]
fn odd_inputs_end_and_do_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.rs"), "one\ntwo\n").unwrap();
    let sources = SourceIndex::new(dir.path());
    let file = dir.path().join("a.rs").to_string_lossy().into_owned();
    let c = |line: u32| LineCost {
        function: "f".into(),
        file: file.clone(),
        line,
        flat: vec![1],
        cum: vec![1],
    };
    for context in [0, u32::MAX] {
        let out = listing(
            &[c(1), c(100), c(u32::MAX)],
            &ListingOptions {
                title: "t",
                value_names: &["samples"],
                figures: Figures::ShareOfTotal { totals: vec![0] },
                top: 3,
                context,
                max_gap: 0,
                sources: &sources,
                legend: &[],
            },
        );
        assert!(out.contains("4294967295"), "{out}");
        assert!(out.lines().count() < 20, "{out}");
    }
    // No values at all.
    let out = listing(
        &[],
        &ListingOptions {
            title: "t",
            value_names: &[],
            figures: Figures::PerCall { calls: 0 },
            top: 0,
            context: 0,
            max_gap: 0,
            sources: &sources,
            legend: &[],
        },
    );
    assert_eq!(out, "t\nFigures per call, over 0 calls.\n");
}

#[test]
fn figures_round_and_group() {
    let pc = Figures::PerCall { calls: 1000 };
    assert_eq!(figure(&pc, 0, 1_323_900), "1,323.9");
    assert_eq!(figure(&pc, 0, 1_323_949), "1,323.9");
    assert_eq!(figure(&pc, 0, 1_323_950), "1,324.0");
    assert_eq!(figure(&pc, 0, 63_216_000), "63,216.0");
    assert_eq!(figure(&pc, 0, 49), "0.0");
    assert_eq!(figure(&pc, 0, -1_500), "-1.5");
    assert_eq!(figure(&pc, 0, -40), "0.0");
    assert_eq!(figure(&Figures::PerCall { calls: 0 }, 0, 7), "7.0");
    let share = Figures::ShareOfTotal { totals: vec![3] };
    assert_eq!(figure(&share, 0, 1), "33.33%");
    assert_eq!(figure(&share, 0, 2), "66.67%");
    assert_eq!(figure(&share, 1, 2), "?");
    assert_eq!(group(1_234_567), "1,234,567");
    assert_eq!(group(-1000), "-1,000");
    assert_eq!(group(0), "0");
}
