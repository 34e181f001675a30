//! What each form allocates, asserted exactly with escape-lab's allocation
//! assertion. A failure names the count and the allocating line.

use own_crate::{fields_into, fields_owned, sample, sum_numbers};

// One line: escape-lab's allocator, which counts per thread while an
// assertion measures.
#[global_allocator]
static ALLOC: escape_lab::Alloc = escape_lab::Alloc;

const LINE: &str = "17, user17, 300, GET, /api/items/119, 527";

#[test]
fn the_borrowed_form_allocates_nothing_once_the_buffer_has_grown() {
    let mut buf: Vec<&str> = Vec::new();
    escape_lab::assert_no_allocs!(|| {
        buf.clear();
        fields_into(LINE, &mut buf)
    });
    assert_eq!(buf.len(), 6);
}

#[test]
fn summing_allocates_nothing() {
    escape_lab::assert_no_allocs!(|| sum_numbers(LINE));
    assert_eq!(sum_numbers(LINE), 17 + 300 + 527);
}

/// Static, from this test binary's machine code: no way to the allocator
/// outside panic handling, whatever the line (a branch no test takes
/// included).
#[test]
fn summing_can_never_allocate() {
    escape_lab::assert_never_allocates!(sum_numbers);
}

#[test]
fn the_owned_form_allocates_one_string_per_field_and_the_vec() {
    // Six Strings; the Vec is allocated for 4 fields and grown to 8.
    escape_lab::assert_allocs!(|| fields_owned(LINE), 6 + 2);
}

#[test]
fn every_sample_line_has_six_fields() {
    for line in sample(50).lines() {
        assert_eq!(fields_owned(line).len(), 6, "{line}");
    }
}
