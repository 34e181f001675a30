#!/usr/bin/env bash
# Every CI step, in order: format, lint, the release build, the README's
# test command, the benches' smoke test, and the gate (allocations and
# instructions, and that extra work is caught). `.ci/run` and
# `.github/workflows/ci.yml` both call this script.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# The release build first: the gate below needs it, and the template test
# (crates/escape-lab/tests/template.rs) builds its bench in this target
# folder, reusing these artifacts instead of compiling them again.
cargo build --release
cargo test --workspace
cargo test --benches
cargo run --release -- check
# The instruction gate catches added work that allocates nothing (exit 1).
set +e
ESCAPE_LAB_FAULT=fixed:work cargo run --release -q -- check fixed > target/work-fault.txt
status=$?
set -e
grep -q "regression in fixed:" target/work-fault.txt && test "$status" -eq 1 || {
  cat target/work-fault.txt
  echo "the instruction gate did not catch ESCAPE_LAB_FAULT=fixed:work (exit $status)"
  exit 1
}
