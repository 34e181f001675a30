//! `ESCAPE_LAB_DATA`, alone in its own test binary: setting an environment
//! variable while other threads read it is a race, so this file holds one
//! test.

use std::path::{Path, PathBuf};

use workload::{article_dir, load_builtin, Builtin, WorkloadError, DATA_ENV};

#[test]
fn data_env_is_used_after_the_explicit_dir() {
    assert_eq!(DATA_ENV, "ESCAPE_LAB_DATA");
    let from_env = std::env::temp_dir().join(format!("workload-env-{}", std::process::id()));
    std::env::set_var(DATA_ENV, &from_env);

    assert_eq!(article_dir(None), Some(from_env.clone()));
    let explicit = Path::new("/explicit");
    assert_eq!(article_dir(Some(explicit)).as_deref(), Some(explicit));

    // The loaders use it too, and the error names it.
    let err = load_builtin(Builtin::ArticleZh, None).unwrap_err();
    match &err {
        WorkloadError::ArticleDataMissing { dir, missing } => {
            assert_eq!(dir.as_deref(), Some(from_env.as_path()));
            assert_eq!(missing.len(), 2);
        }
        other => panic!("expected ArticleDataMissing, got {other:?}"),
    }

    // An empty value counts as unset: the result is then the developers'
    // folder when it exists, else nothing.
    std::env::set_var(DATA_ENV, "");
    let dev = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/article");
    let want = dev.is_dir().then(|| dev.canonicalize().unwrap());
    let got = article_dir(None).map(|d| d.canonicalize().unwrap());
    assert_eq!(got, want);
    if want.is_none() {
        let err = load_builtin(Builtin::ArticleEn, None).unwrap_err();
        assert!(
            matches!(&err, WorkloadError::ArticleDataMissing { dir: None, missing }
                if missing == &[PathBuf::from("en/dictionary.txt"), PathBuf::from("en/text.txt")]),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("en/dictionary.txt and en/text.txt"), "{msg}");
        assert!(
            msg.contains("--data-dir DIR or ESCAPE_LAB_DATA=DIR"),
            "{msg}"
        );
    }
    std::env::remove_var(DATA_ENV);
}
