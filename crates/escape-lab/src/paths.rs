//! Where things are: the source root being profiled and cargo's target
//! folder, found at run time. A leaf: every module that needs a path asks
//! here (the passes, the gate, the assertion's failure message).

use std::path::{Path, PathBuf};

/// The root of the sources being profiled, found at run time as cargo finds
/// a workspace: from the package cargo ran (`CARGO_MANIFEST_DIR`, else the
/// current folder), the nearest folder upwards whose `Cargo.toml` has a
/// `[workspace]` (the package's own included), else the package itself.
///
/// # Allocation
///
/// The path, and each `Cargo.toml` read on the way up.
#[must_use]
pub fn source_root() -> PathBuf {
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."));
    let start = start.canonicalize().unwrap_or(start);
    start
        .ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|t| t.lines().any(|l| l.trim() == "[workspace]"))
        })
        .map_or(start.clone(), Path::to_path_buf)
}

/// cargo's target folder for this process: three levels above the
/// executable when it is a test or bench binary (`<target>/<profile>/deps/`),
/// else `target` under [`source_root`].
///
/// # Allocation
///
/// The path.
#[must_use]
pub fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            let deps = exe.parent()?;
            (deps.file_name()? == "deps").then(|| deps.parent()?.parent().map(Path::to_path_buf))?
        })
        .unwrap_or_else(|| source_root().join("target"))
}
