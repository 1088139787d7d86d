#!/usr/bin/env bash
# Runs `cargo test` of a crate for x86_64-pc-windows-gnu under Wine:
#   tools/wine/cargo-test.sh [--crate DIR] [cargo test arguments...]
# The crate defaults to src/rust ($WINE_TEST_CRATE).  Uses Debian's rustc-web
# 1.96 with -Zbuild-std (tools/cross-check.sh installs it; the Windows
# standard library is built once into $CROSS_TARGET_DIR, default
# ~/.cache/rustipc-cross, and reused) and
# tools/wine/runner.sh as cargo's runner (tools/wine/setup.sh prepares Wine).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
crate=${WINE_TEST_CRATE:-src/rust}
if [ "${1:-}" = "--crate" ]; then crate=$2; shift 2; fi
[ -f "$crate/Cargo.toml" ] || crate=$ROOT/$crate
[ -f "$crate/Cargo.toml" ] || { echo "wine cargo-test: no Cargo.toml in $crate" >&2; exit 2; }
T=x86_64-pc-windows-gnu
bash "$ROOT/tools/cross-check.sh" --install-only --no-clippy $T
bash "$ROOT/tools/wine/setup.sh" -q
# shellcheck source=tools/cross-env.sh
. "$ROOT/tools/cross-env.sh"
cd "$crate"
CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$ROOT/tools/wine/runner.sh" \
  cross_cargo /usr/bin/cargo test -Zbuild-std=std,panic_abort --target $T --locked "$@"
