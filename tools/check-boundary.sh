#!/usr/bin/env bash
# The native entry points are listed once, in src/entrypoint.c's
# ENTRY_POINTS table (X(kind, name, number of arguments)); this checks that
# the Rust functions (rsx_<name>, src/rust/src) and the R code's .Call()s
# (rs_<name>, R/) agree with it: every entry has its Rust function with
# that many arguments, every Rust entry function is in the table, and
# every .Call() names an entry of the table.  Run by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

table=$(sed -n '/^#define ENTRY_POINTS(X)/,/^$/p' src/entrypoint.c |
  grep -oE 'X\((PLAIN|HOT), *[a-z_]+, *[0-9]+\)' | sed -E 's/X\((PLAIN|HOT), *([a-z_]+), *([0-9]+)\)/\2 \3/' | sort)
[ -n "$table" ] || { echo "check-boundary: no ENTRY_POINTS table in src/entrypoint.c"; exit 1; }

# Rust: `extern "C" fn rsx_<name>(<args>)`, arguments counted by their `: Sexp`.
rust=$(python3 - <<'PY'
import re, glob
for f in sorted(glob.glob("src/rust/src/*.rs")):
    s = open(f).read()
    for m in re.finditer(r'extern "C" fn rsx_([a-z_]+)\(([^)]*)\)', s):
        args = [a for a in m.group(2).split(",") if a.strip()]
        print(m.group(1), len(args))
PY
)
rust=$(echo "$rust" | sort)

fail=0
if [ "$table" != "$rust" ]; then
  echo "check-boundary: src/entrypoint.c's ENTRY_POINTS and the Rust rsx_* functions disagree:"
  diff <(echo "$table") <(echo "$rust") | sed 's/^/  /' || true
  fail=1
fi
names=$(echo "$table" | cut -d' ' -f1)
for used in $(grep -ohE '\.Call\((rustipc:::)?rs_[a-z_]+' R/*.R tests/testthat/*.R bench/*.R soak/*.R 2>/dev/null |
              sed -E 's/.*rs_//' | sort -u); do
  if ! grep -qx "$used" <<<"$names"; then
    echo "check-boundary: .Call(rs_$used) names no entry point of src/entrypoint.c"
    fail=1
  fi
done
[ $fail -eq 0 ] && echo "check-boundary: $(echo "$table" | wc -l) entry points agree (C table, Rust, R)"
exit $fail
