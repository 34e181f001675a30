#!/usr/bin/env bash
# Cold `cargo test` of the template crate with each feature set, each in a
# fresh target folder (registry already downloaded): the figures in the
# README's "Use it on your crate". Prints wall seconds per feature set.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for form in light lab; do
  dir="$work/$form"
  cp -r templates/own-crate "$dir"
  rm -rf "$dir/target" "$dir/Cargo.lock"
  cp Cargo.lock "$dir/Cargo.lock"
  dep="escape-lab = { version = \"0.1\", path = \"$root/crates/escape-lab\" }"
  if [ "$form" = light ]; then
    dep="escape-lab = { version = \"0.1\", path = \"$root/crates/escape-lab\", default-features = false }"
    rm -rf "$dir/benches"
    sed -i '/^\[\[bench\]\]/,/^harness = false/d' "$dir/Cargo.toml"
  fi
  # The dev-dependency line (the live program's optional dependency, not
  # built by `cargo test`, only gets the absolute path).
  sed -i "s|^escape-lab = { version = \"0.1\", path = \"../../crates/escape-lab\" }$|$dep|; s|path = \"../../crates/escape-lab\"|path = \"$root/crates/escape-lab\"|" "$dir/Cargo.toml"
  (cd "$dir" && CARGO_TARGET_DIR="$dir/target" /usr/bin/time -f "%e" -o "$dir/time" \
    cargo test > "$dir/test.log" 2>&1) || { cat "$dir/test.log"; exit 1; }
  passed=$(grep -o '[0-9]* passed' "$dir/test.log" | awk '{ n += $1 } END { print n }')
  crates=$(cd "$dir" && cargo tree -e normal,dev --prefix none 2>/dev/null | sed 's/ (\*)//; s/ (proc-macro)//' | sort -u | wc -l)
  echo "$form: cold cargo test $(cat "$dir/time") s (/usr/bin/time), $passed tests passed, $crates crates in the dev tree"
done
