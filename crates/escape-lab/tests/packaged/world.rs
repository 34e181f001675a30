//! The packaged world the tests of `packaged.rs` run in: the library and
//! the crates it needs packaged by `cargo package` (once per test process)
//! and unpacked, and the helpers that make a folder a user's crate over
//! them (its own manifest, the `[patch.crates-io]` a registry stands for,
//! this workspace's lock file), with no path into the workspace.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The packages a user's crate needs, as cargo names them.
const PACKAGES: [&str; 3] = ["countalloc", "escape-lab-pprof", "escape-lab"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// cargo's target folder of this test binary (`<target>/<profile>/deps/`).
pub(crate) fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf()
}

pub(crate) fn cargo(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("ESCAPE_LAB_FAULT")
        .env_remove("CARGO_MANIFEST_DIR")
        .output()
        .unwrap()
}

pub(crate) fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The unpacked packages, made once per test process: `name → folder`.
struct Unpacked {
    _dir: tempfile::TempDir,
    folders: BTreeMap<&'static str, PathBuf>,
}

fn unpacked() -> &'static Unpacked {
    static ONCE: OnceLock<Unpacked> = OnceLock::new();
    ONCE.get_or_init(|| {
        let mut args = vec!["package", "--allow-dirty"];
        for p in PACKAGES {
            args.extend(["-p", p]);
        }
        let o = cargo(&workspace(), &args);
        assert!(o.status.success(), "cargo package failed:\n{}", text(&o));
        let dir = tempfile::tempdir().unwrap();
        let mut folders = BTreeMap::new();
        for name in PACKAGES {
            let version = package_version(name);
            let file = target_dir()
                .join("package")
                .join(format!("{name}-{version}.crate"));
            let t = Command::new("tar")
                .arg("xzf")
                .arg(&file)
                .arg("-C")
                .arg(dir.path())
                .output()
                .unwrap();
            assert!(t.status.success(), "tar {}: {}", file.display(), text(&t));
            let folder = dir.path().join(format!("{name}-{version}"));
            assert!(folder.join("Cargo.toml").is_file(), "{}", folder.display());
            folders.insert(name, folder);
        }
        Unpacked { _dir: dir, folders }
    })
}

/// A workspace package's version, from `cargo metadata`'s view of its
/// manifest (`version = "…"` in `[package]`).
fn package_version(name: &str) -> String {
    let dir = match name {
        "escape-lab-pprof" => "pprof",
        other => other,
    };
    let manifest =
        std::fs::read_to_string(workspace().join("crates").join(dir).join("Cargo.toml")).unwrap();
    manifest
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or_else(|| panic!("no version in {name}'s manifest"))
        .to_string()
}

/// The `[patch.crates-io]` that serves the unpacked packages under their
/// names, as a registry would.
fn patch_section() -> String {
    let mut s = String::from("\n[patch.crates-io]\n");
    for (name, folder) in &unpacked().folders {
        s.push_str(&format!(
            "{name} = {{ path = {:?} }}\n",
            folder.display().to_string()
        ));
    }
    s
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if name == "target" || name == "Cargo.lock" {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(&name));
        } else {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

/// Makes `dir` a user's crate: its manifest is `manifest` plus the patch,
/// with this workspace's lock file (so the same dependency versions, already
/// built, are used).
pub(crate) fn as_users_crate(dir: &Path, manifest: &str) {
    assert!(
        !manifest.contains("path ="),
        "a user's manifest has no path into the workspace:\n{manifest}"
    );
    std::fs::write(
        dir.join("Cargo.toml"),
        format!("{manifest}{}", patch_section()),
    )
    .unwrap();
    std::fs::copy(workspace().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
}

/// A copy of the template depending on the packaged escape-lab.
pub(crate) fn copy_of_template(dir: &Path) -> PathBuf {
    let crate_dir = dir.join("own-crate");
    copy_dir(&workspace().join("templates/own-crate"), &crate_dir);
    let text = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    let line = "escape-lab = { version = \"0.1\", path = \"../../crates/escape-lab\" }";
    assert!(
        text.contains(line),
        "the template's dependency line changed"
    );
    // The live program's optional normal dependency loses its path too.
    let users = text
        .replace(line, "escape-lab = \"0.1\"")
        .replace(", path = \"../../crates/escape-lab\"", "");
    as_users_crate(&crate_dir, &users);
    crate_dir
}
