#!/usr/bin/env bash
# Vendors every crate into src/rust/vendor.tar.xz (with the cargo config that
# points cargo at it), so the tarball `R CMD build` makes installs offline.
# Run before `R CMD build`; the files are generated, never committed.
set -euo pipefail
cd "$(dirname "$0")/../src/rust"
rm -rf vendor vendor.tar.xz
cargo vendor --quiet --locked --versioned-dirs vendor >/dev/null
# Test files and benchmarks of the crates are not needed to build them.
find vendor -mindepth 2 -maxdepth 2 -type d \( -name tests -o -name benches -o -name examples \) -prune -exec rm -rf {} +
for d in vendor/*/; do
  # cargo verifies checksums of vendored files; drop the entries of what we removed
  python3 - "$d" <<'PY'
import json, os, sys
d = sys.argv[1]
p = os.path.join(d, ".cargo-checksum.json")
c = json.load(open(p))
c["files"] = {k: v for k, v in c["files"].items() if os.path.exists(os.path.join(d, k))}
json.dump(c, open(p, "w"))
PY
done
cat > vendor-config.toml <<'CFG'
[source.crates-io]
replace-with = "vendored-sources"

[source.vendored-sources]
directory = "vendor"
CFG
tar -cJf vendor.tar.xz vendor
rm -rf vendor
echo "vendor.tar.xz: $(du -h vendor.tar.xz | cut -f1)"
