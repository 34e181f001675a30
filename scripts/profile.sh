#!/usr/bin/env bash
# A full profile run of the default workload; extra arguments go to
# `escape-lab profile` (e.g. --workload article-en, --quick, --open).
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --release -- profile "$@"
