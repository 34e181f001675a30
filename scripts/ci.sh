#!/usr/bin/env bash
# Every CI step, in order: format, lint (and the library's feature sets
# alone), the release build, the README's test command (which includes the
# packaged-crate test), the benches' smoke test, and the gate (allocations and
# instructions, and that extra work is caught). `.ci/run` and
# `.github/workflows/ci.yml` both call this script.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# The library's feature sets on their own (the workspace builds it with
# `lab` and `live` together): the light build (assertions only) and `live`
# without `lab`, linted and tested; the docs as docs.rs builds them.
cargo clippy -p escape-lab --all-targets --no-default-features -- -D warnings
cargo clippy -p escape-lab --all-targets --no-default-features --features live -- -D warnings
cargo test -p escape-lab --no-default-features --lib --tests
cargo test -p escape-lab --no-default-features --features live --lib --tests
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p escape-lab --features live
# The rust-version users inherit: no dependency of the library needs more.
python3 scripts/msrv.py
# The release build first: the gate below needs it.
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
