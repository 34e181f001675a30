#!/usr/bin/env bash
# Every CI step, in order: format, lint, the README's test command, the
# benches' smoke test, and the allocation gate. `.ci/run` and
# `.github/workflows/ci.yml` both call this script.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
cargo test --benches
cargo run --release -- check
