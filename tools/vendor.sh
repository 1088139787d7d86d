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
# windows-sys carries bindings for all of Win32 (19 MB); keep only the
# modules of the features rustipc-core enables (core/Cargo.toml) and the
# modules above them.  Every other module file is behind a
# #[cfg(feature = ...)] that is off, so it is never read.
for d in vendor/windows-sys-*/; do
  python3 - "$d" core/Cargo.toml <<'PY'
import json, os, re, sys
d, manifest = sys.argv[1], sys.argv[2]
m = re.search(r'windows-sys\s*=\s*\{[^}]*features\s*=\s*\[([^\]]*)\]', open(manifest).read(), re.S)
enabled = set(re.findall(r'"([A-Za-z0-9_]+)"', m.group(1))) if m else set()
keep = set()
for f in enabled:
    parts = f.split("_")
    for i in range(1, len(parts) + 1):
        keep.add("/".join(parts[:i]))
root = os.path.join(d, "src", "Windows")
for dirpath, dirnames, filenames in os.walk(root, topdown=True):
    rel = os.path.relpath(dirpath, root)
    if rel != "." and rel not in keep:
        for dp, _, fns in os.walk(dirpath):
            for fn in fns:
                os.remove(os.path.join(dp, fn))
        dirnames[:] = []
        continue
p = os.path.join(d, ".cargo-checksum.json")
c = json.load(open(p))
c["files"] = {k: v for k, v in c["files"].items() if os.path.exists(os.path.join(d, k))}
json.dump(c, open(p, "w"))
PY
  find "$d" -type d -empty -delete
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
