//! Number, time and markup formatting: the one place for each.
//!
//! Every report (terminal table, `sites.txt`, `index.html`, the check report,
//! `diff`, the benches' tables) formats its figures with these, so a number
//! reads the same everywhere: per-call figures are exact quotients shown as
//! an integer when they divide and with two decimals when they do not.

/// `1234567` as `1,234,567`.
///
/// # Allocation
///
/// The returned `String`.
#[must_use]
pub fn group(n: u64) -> String {
    group_signed(i128::from(n))
}

/// [`group`] for any integer, with a leading `-` when negative.
///
/// # Allocation
///
/// The returned `String`.
#[must_use]
pub fn group_signed(x: i128) -> String {
    let digits = x.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if x < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `total / calls`: an integer when it divides (`1,317`), else rounded to
/// two decimals (`1,323.90`); `0` when there were no calls.
///
/// # Allocation
///
/// The returned `String`.
#[must_use]
pub fn per_call(total: u64, calls: u64) -> String {
    if calls == 0 {
        return "0".into();
    }
    if total.is_multiple_of(calls) {
        group(total / calls)
    } else {
        let hundredths = (u128::from(total) * 100 + u128::from(calls) / 2) / u128::from(calls);
        format!(
            "{}.{:02}",
            group((hundredths / 100) as u64),
            hundredths % 100
        )
    }
}

/// `total / calls` as a float, 0 when there were no calls (for JSON).
///
/// Never allocates.
#[must_use]
pub fn ratio(total: u64, calls: u64) -> f64 {
    if calls == 0 {
        0.0
    } else {
        total as f64 / calls as f64
    }
}

/// A duration in nanoseconds with a unit that fits: `812.0 ns`,
/// `21.50 µs`, `1.25 ms`, `2.00 s`.
///
/// # Allocation
///
/// The returned `String`.
#[must_use]
pub fn ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

/// Escapes text for HTML element content and attribute values.
///
/// # Allocation
///
/// The returned `String`.
#[must_use]
pub fn html(s: &str) -> String {
    escape(s, false)
}

/// Escapes text for XML (SVG) content and attribute values, apostrophes
/// included.
///
/// # Allocation
///
/// The returned `String`.
#[must_use]
pub fn xml(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, apostrophe: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' if apostrophe => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for a GitHub-flavoured Markdown table cell: `|` and
/// backticks would break the table or the code span.
///
/// # Allocation
///
/// The returned `String`.
#[must_use]
pub fn markdown_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The first line of a failure message, without the stderr tail a child's
/// failure carries (`"; stderr (whole in ...)"`), for one-line tables.
///
/// Never allocates.
#[must_use]
pub fn headline(message: &str) -> &str {
    let first = message.lines().next().unwrap_or("");
    first.split_once("; stderr").map_or(first, |(head, _)| head)
}

/// An error and its sources, `: `-separated, for messages.
///
/// # Allocation
///
/// The returned `String`.
#[must_use]
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_group_and_divide() {
        assert_eq!(group(1_234_567), "1,234,567");
        assert_eq!(group(12), "12");
        assert_eq!(group(0), "0");
        assert_eq!(per_call(2634, 2), "1,317");
        assert_eq!(per_call(5, 2), "2.50");
        assert_eq!(per_call(677_837, 512), "1,323.90");
        assert_eq!(per_call(0, 0), "0");
        assert_eq!(ratio(5, 2), 2.5);
        assert_eq!(ratio(5, 0), 0.0);
    }

    #[test]
    fn durations_pick_a_unit() {
        assert_eq!(ns(812.0), "812.0 ns");
        assert_eq!(ns(21_500.0), "21.50 µs");
        assert_eq!(ns(1_250_000.0), "1.25 ms");
        assert_eq!(ns(2e9), "2.00 s");
    }

    #[test]
    fn headlines_drop_the_stderr_tail() {
        assert_eq!(
            headline("crashed (signal: 6); stderr (whole in x):\n  boom"),
            "crashed (signal: 6)"
        );
        assert_eq!(headline("timed out after 3 s"), "timed out after 3 s");
        assert_eq!(headline(""), "");
    }

    #[test]
    fn markup_escapes() {
        assert_eq!(html("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c'");
        assert_eq!(xml("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(markdown_cell("a|b\nc"), "a\\|b c");
    }
}
