//! Tests of [`super::encode`](super).
use super::super::cpu::CpuSample;
use super::*;

fn frame(function: &str, file: &str, line: u32) -> Frame {
    Frame {
        function: function.to_owned(),
        system_name: format!("_ZN{function}E"),
        file: Some(file.to_owned()),
        line: Some(line),
        column: Some(5),
    }
}

fn small() -> Profile {
    let mut b = ProfileBuilder::new(&[("samples", "count")], ("cpu", "nanoseconds"), 10);
    b.set_mappings(
        &[Mapping {
            start: 0x1000,
            limit: 0x2000,
            offset: 0,
            path: "/bin/x".into(),
            build_id: Some("abcd".into()),
            vaddr: None,
        }],
        Addresses::MainBinaryLinkTime,
    );
    b.comment("hello");
    let inl = [
        frame("helper", "/src/a.rs", 3),
        frame("run", "/src/a.rs", 10),
    ];
    let l1 = b.location(0x1010, &inl);
    let l1b = b.location(0x1010, &inl);
    assert_eq!(l1, l1b);
    let l2 = b.location(0x1100, &[frame("main", "/src/main.rs", 2)]);
    let l3 = b.location(0x9000, &[]);
    b.sample(vec![l1, l2], &[3]);
    b.sample(vec![l1, l2], &[4]);
    b.sample(vec![l3, l2], &[1, 99]);
    b.build()
}

#[test]
fn builder_interns_and_merges() {
    let p = small();
    let s = |i: i64| p.string_table[i as usize].as_str();
    assert_eq!(p.string_table[0], "");
    assert_eq!(p.location.len(), 3);
    assert_eq!(p.sample.len(), 2);
    assert_eq!(p.sample[0].value, vec![7]);
    assert_eq!(p.sample[1].value, vec![1]);
    // Inlined frames, innermost first, each its own function.
    let l = &p.location[0];
    assert_eq!(l.address, 0x1010);
    assert_eq!(l.mapping_id, 1);
    assert_eq!(l.line.len(), 2);
    let f0 = &p.function[l.line[0].function_id as usize - 1];
    assert_eq!(s(f0.name), "helper");
    assert_eq!(s(f0.system_name), "_ZNhelperE");
    assert_eq!(s(f0.filename), "/src/a.rs");
    assert_eq!(l.line[0].line, 3);
    assert_eq!(l.line[1].line, 10);
    // Outside every mapping: no mapping id, no lines.
    assert_eq!(p.location[2].mapping_id, 0);
    assert!(p.location[2].line.is_empty());
    let m = &p.mapping[0];
    assert!(m.has_functions && m.has_filenames && m.has_line_numbers && m.has_inline_frames);
    assert_eq!(s(m.filename), "/bin/x");
    assert_eq!(s(m.build_id), "abcd");
    assert_eq!(s(p.comment[0]), "hello");
    assert_eq!(s(p.period_type.as_ref().unwrap().ty), "cpu");
    assert_eq!(p.period, 10);
}

#[test]
fn main_binary_moves_to_link_time_addresses() {
    let maps = [
        Mapping {
            start: 0x5555_0000_1800,
            limit: 0x5555_0001_0000,
            offset: 0x800,
            path: "/bin/main".into(),
            build_id: None,
            vaddr: Some(0x1800),
        },
        Mapping {
            start: 0x7f00_0000_0000,
            limit: 0x7f00_0001_0000,
            offset: 0,
            path: "/lib/libc.so.6".into(),
            build_id: None,
            vaddr: Some(0),
        },
    ];
    let frames = [frame("f", "/src/a.rs", 7)];
    for (addresses, main_loc, main_start) in [
        (Addresses::MainBinaryLinkTime, 0x1900, 0x1800),
        (Addresses::Runtime, 0x5555_0000_1900, 0x5555_0000_1800),
    ] {
        let mut b = ProfileBuilder::new(&[("samples", "count")], ("cpu", "nanoseconds"), 1);
        b.set_mappings(&maps, addresses);
        let a = b.location(0x5555_0000_1900, &frames);
        let c = b.location(0x7f00_0000_0100, &frames);
        b.sample(vec![a, c], &[1]);
        let p = b.build();
        assert_eq!(p.location[0].address, main_loc);
        assert_eq!(p.mapping[0].memory_start, main_start);
        assert_eq!(p.location[1].address, 0x7f00_0000_0100, "libraries stay");
        assert_eq!(p.mapping[1].memory_start, 0x7f00_0000_0000);
        assert_eq!(p.function[0].start_line, 7);
    }
}

#[test]
fn gzip_round_trip_is_deterministic() {
    let p = small();
    let a = to_gzip(&p).unwrap();
    let b = to_gzip(&p).unwrap();
    assert_eq!(a, b);
    assert_eq!(&a[..2], &[0x1f, 0x8b]);
    assert_eq!(&a[4..8], &[0, 0, 0, 0], "mtime must be zero");
    assert_eq!(from_bytes(&a).unwrap(), p);
    assert_eq!(from_bytes(&p.encode_to_vec()).unwrap(), p);
    assert!(matches!(
        from_bytes(&[0x1f, 0x8b, 1, 2, 3]),
        Err(Error::Gzip { .. })
    ));
    assert!(matches!(from_bytes(&[0xff; 7]), Err(Error::Decode { .. })));
}

#[test]
fn index_answers_bad_ids_without_panicking() {
    let p = small();
    let ix = ProfileIndex::new(&p);
    assert_eq!(ix.str(-1), "");
    assert_eq!(ix.str(10_000), "");
    assert!(ix.location(0).is_none());
    assert!(ix.function(999).is_none());
    assert_eq!(ix.sample_index("samples").unwrap(), 0);
    assert_eq!(ix.sample_index("0").unwrap(), 0);
    let err = ix.sample_index("alloc_space").unwrap_err();
    assert!(err.to_string().contains("samples/count"), "{err}");
}

#[test]
fn cpu_profile_has_go_types_and_period() {
    let samples = CpuSamples {
        samples: vec![CpuSample {
            addresses: vec![0x10, 0x20],
            count: 5,
        }],
        frequency_hz: 250,
        start_time: SystemTime::UNIX_EPOCH + Duration::from_secs(1),
        duration: Duration::from_secs(2),
    };
    let mut sym = Symbolizer::new();
    let p = cpu_profile(
        &samples,
        &mut sym,
        &CpuProfileOptions {
            comments: &["c"],
            ..CpuProfileOptions::default()
        },
    );
    let s = |i: i64| p.string_table[i as usize].as_str();
    let types: Vec<_> = p
        .sample_type
        .iter()
        .map(|t| format!("{}/{}", s(t.ty), s(t.unit)))
        .collect();
    assert_eq!(types, ["samples/count", "cpu/nanoseconds"]);
    assert_eq!(p.period, 4_000_000);
    assert_eq!(p.sample[0].value, vec![5, 20_000_000]);
    assert_eq!(p.time_nanos, 1_000_000_000);
    assert_eq!(p.duration_nanos, 2_000_000_000);
    // Leaf as sampled, the caller's return address minus one.
    let addrs: Vec<u64> = p.location.iter().map(|l| l.address).collect();
    assert_eq!(addrs, [0x10, 0x1f]);
}
