//! The pattern-file reader over arbitrary bytes: never a panic; an error
//! names the file (and, for a bad line, the line).

use std::path::Path;

use proptest::prelude::*;

#[test]
fn a_good_file_is_read_and_a_blank_line_is_named() {
    // Positive control for the property below.
    let p = workload::parse_patterns(b"he\nshe\n\nhers\r\n", Path::new("pats.txt")).unwrap();
    assert_eq!(p, [b"he".to_vec(), b"she".to_vec(), b"hers".to_vec()]);
    let e = workload::parse_patterns(b"he\n  \n", Path::new("pats.txt")).unwrap_err();
    assert!(e.to_string().starts_with("pats.txt:2"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_bytes_are_a_result_or_an_error_naming_the_file(
        bytes in proptest::collection::vec(any::<u8>(), 0..400)
    ) {
        if let Err(e) = workload::parse_patterns(&bytes, Path::new("pats.txt")) {
            prop_assert!(e.to_string().contains("pats.txt"), "{e}");
        }
    }
}
