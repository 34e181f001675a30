//! Tests of [`super::heap`](super).
use super::*;

#[test]
fn ftbl_entries_parse() {
    let e = parse_ftbl("0x55d0a1b2c3d4: acmatch::variant::boxed::find::{{closure}}::h0123456789abcdef (/abs/path/crates/acmatch/src/variant/boxed.rs:33:20)");
    assert_eq!(e.address, 0x55d0a1b2c3d4);
    let f = e.frame.unwrap();
    assert_eq!(f.function, "acmatch::variant::boxed::find::{{closure}}");
    assert_eq!(
        f.file.as_deref(),
        Some("/abs/path/crates/acmatch/src/variant/boxed.rs")
    );
    assert_eq!((f.line, f.column), (Some(33), Some(20)));

    let e = parse_ftbl("0x1: ??? (???:0:0)");
    let f = e.frame.unwrap();
    assert_eq!((f.function.as_str(), f.file, f.line), ("", None, None));

    let e = parse_ftbl("0x2: <impl Fn(u8) for F> (c:\\x\\y.rs:4:1)");
    let f = e.frame.unwrap();
    assert_eq!(f.function, "<impl Fn(u8) for F>");
    assert_eq!(f.file.as_deref(), Some("c:\\x\\y.rs"));
    assert_eq!(f.line, Some(4));

    assert_eq!(parse_ftbl("[root]").frame, None);
    let junk = parse_ftbl("no address here");
    assert_eq!(junk.address, 0);
    assert_eq!(junk.frame.unwrap().function, "no address here");
}

#[test]
fn groups_split_on_address_change_and_repeats() {
    let e = |a: u64, n: &str| FtblEntry {
        address: a,
        frame: Some(Frame {
            function: n.into(),
            system_name: String::new(),
            file: None,
            line: None,
            column: None,
        }),
    };
    let ftbl = vec![
        FtblEntry {
            address: 0,
            frame: None,
        },
        e(0x10, "inner"),
        e(0x10, "outer"),
        e(0x20, "rec"),
        e(0x30, "main"),
    ];
    let g = group_frames(&[1, 2, 3, 3, 4, 0], &ftbl);
    assert_eq!(g, vec![vec![1, 2], vec![3], vec![3], vec![4]]);
}

#[test]
fn allocator_frames_are_trimmed_from_the_leaf_only() {
    let f = |n: &str| Frame {
        function: n.into(),
        system_name: String::new(),
        file: None,
        line: None,
        column: None,
    };
    let mut stack = vec![
        (1, vec![f("__rg_alloc")]),
        (
            2,
            vec![
                f("alloc::alloc::exchange_malloc"),
                f("alloc::boxed::Box<T>::new"),
                f("find"),
            ],
        ),
        (3, vec![f("alloc::alloc::alloc"), f("main")]),
    ];
    trim_allocator_frames(&mut stack, &[]);
    assert_eq!(stack.len(), 2);
    assert_eq!(stack[0].0, 2);
    assert_eq!(stack[0].1[0].function, "alloc::boxed::Box<T>::new");
    assert_eq!(stack[1].1.len(), 2, "callers are not trimmed");
    // A fresh symbolization of the first address can hold the shims and
    // a custom global allocator inlined into the caller.
    let mut stack = vec![(
        1,
        vec![
            f("__rustc::__rust_alloc"),
            f("<lab::alloc::SwitchAlloc as core::alloc::global::GlobalAlloc>::alloc"),
            f("alloc::alloc::alloc"),
            f("alloc::boxed::box_new_uninit"),
            f("alloc::boxed::Box<T>::new"),
            f("find"),
        ],
    )];
    trim_allocator_frames(&mut stack, &[]);
    assert_eq!(stack[0].1[0].function, "alloc::boxed::Box<T>::new");
    let mut only = vec![(1, vec![f("__rg_alloc")])];
    trim_allocator_frames(&mut only, &[]);
    assert_eq!(only.len(), 1, "never trims a stack away");
}

#[test]
fn bad_files_are_named_errors() {
    let opts = HeapOptions::default();
    let err = heap_profile("{", "x.json", &opts, None).unwrap_err();
    assert!(matches!(err, Error::DhatJson { .. }));
    assert!(err.to_string().contains("x.json"), "{err}");
    let v1 = r#"{"dhatFileVersion":1,"pps":[],"ftbl":[]}"#;
    let err = heap_profile(v1, "x.json", &opts, None).unwrap_err();
    assert!(err.to_string().contains("only 2"), "{err}");
    let adhoc = r#"{"dhatFileVersion":2,"mode":"rust-ad-hoc","pps":[],"ftbl":[]}"#;
    let err = heap_profile(adhoc, "x.json", &opts, None).unwrap_err();
    assert!(err.to_string().contains("ad hoc"), "{err}");
    let oob = r#"{"dhatFileVersion":2,"pps":[{"tb":1,"tbk":1,"fs":[0,7]}],"ftbl":["[root]"]}"#;
    let err = heap_profile(oob, "x.json", &opts, None).unwrap_err();
    assert!(err.to_string().contains("pps[0].fs[1] is 7"), "{err}");
}
