//! The article workloads: the reference figures when the data is there, and
//! the error that says how to get it when it is not.

use std::fs;
use std::path::{Path, PathBuf};

use workload::{article_dir, load_builtin, Builtin, WorkloadError};

/// The original benchmark's figures. Runs only where `article_dir(None)` finds
/// the data (ESCAPE_LAB_DATA, or `shared/data/article` beside the
/// repository); elsewhere it says why it skipped.
#[test]
fn article_data_matches_the_reference_figures() {
    let Some(dir) = article_dir(None).filter(|d| d.join("en/text.txt").is_file()) else {
        eprintln!(
            "skipped: no article data found ({}); set ESCAPE_LAB_DATA to the folder holding en/ and cn/",
            match article_dir(None) {
                Some(dir) => format!("{} has no en/text.txt", dir.display()),
                None => "ESCAPE_LAB_DATA is unset and shared/data/article is absent".to_owned(),
            }
        );
        return;
    };
    eprintln!("article data from {}", dir.display());

    let en = load_builtin(Builtin::ArticleEn, None).unwrap();
    assert_eq!(en.name, "article-en");
    assert_eq!(en.patterns.len(), 127_142);
    assert_eq!(en.haystack.len(), 3_409_282);
    assert_eq!(en.patterns[0], b"aa");
    assert_eq!(en.patterns.last().unwrap(), b"zyzzyvas");

    let zh = load_builtin(Builtin::ArticleZh, Some(&dir)).unwrap();
    assert_eq!(zh.name, "article-zh");
    // The dictionary's 153,152 lines are a BOM-prefixed first line and a
    // final empty line after the last newline.
    assert_eq!(zh.patterns.len(), 153_151);
    assert_eq!(zh.haystack.len(), 2_460_634);
    assert_eq!(zh.patterns[0], b":", "the leading BOM is removed");
    assert!(zh.patterns.iter().all(|p| !p.is_empty()));
}

#[test]
fn missing_article_data_says_what_where_and_how() {
    let dir = std::env::temp_dir().join(format!("workload-no-article-{}", std::process::id()));
    fs::create_dir_all(dir.join("cn")).unwrap();
    fs::write(dir.join("cn/dictionary.txt"), "词\n").unwrap();

    let err = load_builtin(Builtin::ArticleEn, Some(&dir)).unwrap_err();
    match &err {
        WorkloadError::ArticleDataMissing {
            dir: Some(d),
            missing,
        } => {
            assert_eq!(d, &dir);
            assert_eq!(
                missing,
                &[dir.join("en/dictionary.txt"), dir.join("en/text.txt")]
            );
        }
        other => panic!("expected ArticleDataMissing, got {other:?}"),
    }
    let msg = err.to_string();
    for needle in [
        "en/dictionary.txt",
        "en/text.txt",
        &dir.display().to_string(),
        "benchmark/",
        "iohub/Ahocorasick",
        "--data-dir DIR",
        "ESCAPE_LAB_DATA=DIR",
    ] {
        assert!(msg.contains(needle), "{needle:?} not in: {msg}");
    }
    assert!(!msg.ends_with('.'), "{msg}");

    // Only the absent file is listed, and the pair named is cn/.
    let err = load_builtin(Builtin::ArticleZh, Some(&dir)).unwrap_err();
    match &err {
        WorkloadError::ArticleDataMissing { missing, .. } => {
            assert_eq!(missing, &[dir.join("cn/text.txt")]);
        }
        other => panic!("expected ArticleDataMissing, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("cn/dictionary.txt and cn/text.txt"), "{msg}");
    assert!(!msg.contains("en/dictionary.txt"), "{msg}");

    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn article_files_go_through_the_pattern_rules() {
    let dir = std::env::temp_dir().join(format!("workload-fake-article-{}", std::process::id()));
    fs::create_dir_all(dir.join("en")).unwrap();
    fs::write(dir.join("en/dictionary.txt"), "\u{feff}he\r\nshe\n\n").unwrap();
    fs::write(dir.join("en/text.txt"), "ushers").unwrap();
    let w = load_builtin(Builtin::ArticleEn, Some(&dir)).unwrap();
    assert_eq!(w.name, "article-en");
    assert_eq!(w.patterns, [&b"he"[..], b"she"]);
    assert_eq!(w.haystack, b"ushers");

    fs::write(dir.join("en/dictionary.txt"), "he\n \n").unwrap();
    let err = load_builtin(Builtin::ArticleEn, Some(&dir)).unwrap_err();
    let dict: PathBuf = dir.join("en/dictionary.txt");
    assert!(
        matches!(&err, WorkloadError::EmptyPattern { path, line: 2 } if path == &dict),
        "{err:?}"
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn explicit_dir_wins() {
    let explicit = Path::new("/nowhere/article");
    assert_eq!(article_dir(Some(explicit)).as_deref(), Some(explicit));
}

#[test]
fn synthetic_workloads_ignore_the_data_dir() {
    let a = load_builtin(Builtin::SyntheticEn, Some(Path::new("/nowhere"))).unwrap();
    assert_eq!(a.name, "synthetic-en");
}
