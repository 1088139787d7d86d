#!/usr/bin/env bash
# Builds what `make bench` compares against, into libraries of their own
# under $RUSTIPC_BENCH_CACHE (default ~/.cache/rustipc-bench); never into
# the project's library, and never as a dependency of rustipc:
#  - baseline-lib: rustipc as it was when the speed issue was filed (commit
#    39ac12e), from this repository's history;
#  - anchors-lib: interprocess, when $INTERPROCESS_SRC names a checkout of
#    https://github.com/cmmr/interprocess (it needs Debian's r-cran-cpp11
#    and r-cran-bh, installed here when missing).
# Each is built once; a later run finds it and does nothing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${RUSTIPC_BENCH_CACHE:-$HOME/.cache/rustipc-bench}
BASE=39ac12e
mkdir -p "$CACHE/baseline-lib" "$CACHE/anchors-lib"

if [ -f "$CACHE/baseline-lib/rustipc/DESCRIPTION" ] && [ "$(cat "$CACHE/baseline-lib/.commit" 2>/dev/null)" = "$BASE" ]; then
  :
elif git -C "$ROOT" cat-file -e "$BASE^{commit}" 2>/dev/null; then
  echo "bench-anchors: building rustipc at $BASE into $CACHE/baseline-lib"
  src=$(mktemp -d)
  git -C "$ROOT" archive "$BASE" | tar -x -C "$src"
  R CMD INSTALL --no-multiarch --library="$CACHE/baseline-lib" "$src" >"$CACHE/baseline-install.log" 2>&1 ||
    { tail -n 20 "$CACHE/baseline-install.log" >&2; rm -rf "$src"; exit 1; }
  echo "$BASE" >"$CACHE/baseline-lib/.commit"
  rm -rf "$src"
else
  echo "bench-anchors: commit $BASE is not in this clone's history (shallow?): no baseline rows" >&2
fi

if [ -n "${INTERPROCESS_SRC:-}" ]; then
  need=()
  for p in r-cran-cpp11 r-cran-bh; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  echo "bench-anchors: building interprocess from $INTERPROCESS_SRC into $CACHE/anchors-lib"
  R CMD INSTALL --no-multiarch --library="$CACHE/anchors-lib" "$INTERPROCESS_SRC" >"$CACHE/interprocess-install.log" 2>&1 ||
    { tail -n 20 "$CACHE/interprocess-install.log" >&2; exit 1; }
elif [ ! -d "$CACHE/anchors-lib/interprocess" ]; then
  echo "bench-anchors: interprocess not installed; for its rows: make bench INTERPROCESS_SRC=<checkout of github.com/cmmr/interprocess>" >&2
fi
