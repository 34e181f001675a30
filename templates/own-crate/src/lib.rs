//! A small hot path in two forms: splitting a comma-separated record into
//! its fields, once as owned `String`s (one allocation per field, plus the
//! `Vec`) and once as slices into a buffer the caller reuses (no allocation
//! once the buffer has grown). The tests assert both facts exactly; the
//! bench profiles both and gates their allocation counts in CI.

/// Splits `line` at commas into trimmed fields, each an owned `String`.
///
/// # Allocation
///
/// The `Vec` (and its growth) and one `String` per non-empty field.
pub fn fields_owned(line: &str) -> Vec<String> {
    line.split(',').map(|f| f.trim().to_string()).collect()
}

/// Splits `line` at commas into trimmed fields, appended to `out` as slices
/// of `line`. Returns how many fields it added.
///
/// # Allocation
///
/// None once `out` has room for the fields: only `out`'s growth.
pub fn fields_into<'a>(line: &'a str, out: &mut Vec<&'a str>) -> usize {
    let before = out.len();
    for field in line.split(',') {
        out.push(field.trim());
    }
    out.len() - before
}

/// Sums the fields of `line` that are unsigned integers.
///
/// # Allocation
///
/// Never allocates.
pub fn sum_numbers(line: &str) -> u64 {
    line.split(',')
        .filter_map(|f| f.trim().parse::<u64>().ok())
        .sum()
}

/// Lines of sample input: `n` records of six fields each, the same on every
/// run.
///
/// # Allocation
///
/// The returned `String`.
pub fn sample(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!(
            "{i}, user{}, {}, GET, /api/items/{}, {}\n",
            i % 97,
            200 + (i % 3) * 100,
            i * 7 % 1000,
            (i * 31) % 5000
        ));
    }
    s
}
