#!/usr/bin/env python3
"""The `rust-version` a user's crate inherits, checked without a second
toolchain (this machine has one): every package escape-lab, countalloc and
escape-lab-pprof pull in, with every feature, must declare a rust-version at
or below theirs (cargo metadata), and clippy's `incompatible_msrv` lint (on in
`cargo clippy -D warnings`) keeps our own code off newer std APIs.
Exit 1 naming each package that needs a newer compiler."""
import json
import subprocess
import sys

LIBRARY = {"escape-lab", "countalloc", "escape-lab-pprof"}


def version(text):
    parts = [int(p) for p in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


meta = json.loads(subprocess.run(
    ["cargo", "metadata", "--format-version", "1", "--all-features",
     "--filter-platform", "x86_64-unknown-linux-gnu"],
    check=True, capture_output=True, text=True).stdout)
packages = {p["id"]: p for p in meta["packages"]}
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
roots = [i for i, p in packages.items() if p["name"] in LIBRARY and p["source"] is None]
msrv = {packages[i]["rust_version"] for i in roots}
if len(msrv) != 1 or None in msrv:
    sys.exit(f"the library crates declare different rust-versions: {sorted(map(str, msrv))}")
floor = version(msrv.pop())

seen, stack = set(), list(roots)
while stack:
    node = nodes[stack.pop()]
    for dep in node["deps"]:
        # Normal and build dependencies reach users; dev-dependencies do not.
        if any(k["kind"] in (None, "build") for k in dep["dep_kinds"]) and dep["pkg"] not in seen:
            seen.add(dep["pkg"])
            stack.append(dep["pkg"])

late = []
for i in sorted(seen, key=lambda i: packages[i]["name"]):
    p = packages[i]
    if p["rust_version"] and version(p["rust_version"]) > floor:
        late.append(f'{p["name"]} {p["version"]} needs rust {p["rust_version"]}')
if late:
    print(f"rust-version {'.'.join(map(str, floor[:2]))} is not what users get:", *late, sep="\n  ")
    sys.exit(1)
print(f"rust-version {'.'.join(map(str, floor[:2]))}: {len(seen)} dependencies of the library "
      "declare the same or older (or none)")
