#!/usr/bin/env bash
# Rewrites profiles/baseline.json from a fresh count pass; review the diff
# and commit it like code.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release -- check --bless
git --no-pager diff --stat -- profiles/baseline.json || true
