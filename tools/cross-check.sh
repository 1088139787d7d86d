#!/usr/bin/env bash
# Cross-target compile checks (cargo check + cargo clippy -D warnings) of the
# Rust crate(s) for targets whose standard library rustup cannot fetch here.
#
#   tools/cross-check.sh [options] [TARGET...]
#
# Targets default to x86_64-apple-darwin aarch64-apple-darwin
# x86_64-unknown-freebsd x86_64-pc-windows-gnu (or $CROSS_TARGETS).
#
# Options (each also settable through the environment):
#   --crate DIR      crate to check; repeatable.  Default src/rust.
#                    ($CROSS_CRATES: space-separated list)
#   --no-clippy      only cargo check                  ($CROSS_CLIPPY=0)
#   --offline        pass --offline to cargo (works once a first run has put
#                    the crates, the standard library's too, in $CARGO_HOME)
#                                                      ($CROSS_OFFLINE=1)
#   --log-dir DIR    where cross-errors-<target>.txt go ($CROSS_LOG_DIR, /tmp)
#   --all-targets    check and lint tests, examples and benches too (builds
#                    the target's `test` crate as well) ($CROSS_ALL_TARGETS=1)
#   --install-only   install the toolchain for the targets, check nothing
#   $CROSS_CARGO_ARGS  extra cargo arguments, e.g. "--all-targets"
#   $CROSS_TARGET_DIR  cargo target dir (default ~/.cache/rustipc-cross: the
#                      standard library built there for each target is
#                      reused by later runs, also from other checkouts)
#
# How: Debian 12's security archive has rustc-web/cargo-web/rust-web-src/
# rust-web-clippy 1.96, a compiler with the matching standard-library source,
# so `-Zbuild-std` (allowed on a stable compiler by RUSTC_BOOTSTRAP=1) compiles
# std for any target rustc knows.  RUSTC and the clippy driver are given by
# absolute path: rustup's proxies in ~/.cargo/bin come first on PATH and would
# otherwise run rustup's toolchain, which has no standard-library source.
# What is missing is installed with apt-get (Windows also needs mingw-w64's
# dlltool and gcc).  Exits non-zero if any check fails.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEFAULT_TARGETS="x86_64-apple-darwin aarch64-apple-darwin x86_64-unknown-freebsd x86_64-pc-windows-gnu"

crates=()
targets=()
clippy=${CROSS_CLIPPY:-1}
offline=${CROSS_OFFLINE:-0}
log_dir=${CROSS_LOG_DIR:-/tmp}
install_only=0
all_targets=${CROSS_ALL_TARGETS:-0}
while [ $# -gt 0 ]; do
  case "$1" in
    --crate) crates+=("$2"); shift 2 ;;
    --crate=*) crates+=("${1#--crate=}"); shift ;;
    --no-clippy) clippy=0; shift ;;
    --offline) offline=1; shift ;;
    --log-dir) log_dir=$2; shift 2 ;;
    --install-only) install_only=1; shift ;;
    --all-targets) all_targets=1; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "cross-check: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [ ${#crates[@]} -eq 0 ]; then
  # shellcheck disable=SC2206
  crates=(${CROSS_CRATES:-src/rust})
fi
if [ ${#targets[@]} -eq 0 ]; then
  # shellcheck disable=SC2206
  targets=(${CROSS_TARGETS:-$DEFAULT_TARGETS})
fi

# Resolve crate directories: relative to the current directory, else to the
# checkout.
crate_dirs=()
for c in "${crates[@]}"; do
  if [ -f "$c/Cargo.toml" ]; then crate_dirs+=("$(cd "$c" && pwd)")
  elif [ -f "$ROOT/$c/Cargo.toml" ]; then crate_dirs+=("$(cd "$ROOT/$c" && pwd)")
  else echo "cross-check: no Cargo.toml in $c" >&2; exit 2
  fi
done

# ---------------------------------------------------------------- installing
have_deb() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
deb_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
updated=0
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  local log rc=0
  log=$(mktemp)
  if [ $updated -eq 0 ]; then $SUDO apt-get update -qq >"$log" 2>&1 || rc=$?; updated=1; fi
  [ $rc -eq 0 ] && { $SUDO apt-get install -y -qq --no-install-recommends "$@" </dev/null >>"$log" 2>&1 || rc=$?; }
  [ $rc -eq 0 ] || tail -n 20 "$log" >&2
  rm -f "$log"
  return $rc
}

rust_pkgs=(rustc-web cargo-web rust-web-src)
[ "$clippy" = 1 ] && rust_pkgs+=(rust-web-clippy)
need=()
for p in "${rust_pkgs[@]}"; do have_deb "$p" || need+=("$p"); done
# The compiler and the standard-library source must be the same release.
if [ ${#need[@]} -eq 0 ]; then
  v0=$(deb_version rustc-web)
  for p in "${rust_pkgs[@]}"; do
    [ "$(deb_version "$p")" = "$v0" ] || { need=("${rust_pkgs[@]}"); break; }
  done
fi
case " ${targets[*]} " in
  *windows-gnu*)
    command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
    command -v x86_64-w64-mingw32-dlltool >/dev/null 2>&1 || need+=(binutils-mingw-w64-x86-64)
    ;;
esac
if [ ${#need[@]} -gt 0 ]; then
  echo "cross-check: installing ${need[*]}"
  if ! apt_install "${need[@]}"; then
    echo "cross-check: apt-get install ${need[*]} failed" >&2
    echo "  (rust-web-clippy conflicts with Debian's rustup and rust-clippy packages;" >&2
    echo "   use --no-clippy where one of them must stay)" >&2
    exit 1
  fi
fi
for p in "${rust_pkgs[@]}"; do
  [ "$(deb_version "$p")" = "$(deb_version rustc-web)" ] ||
    { echo "cross-check: $p $(deb_version "$p") does not match rustc-web $(deb_version rustc-web)" >&2; exit 1; }
done
SYSROOT_SRC=$(/usr/bin/rustc --print sysroot)/lib/rustlib/src/rust/library
[ -f "$SYSROOT_SRC/Cargo.lock" ] ||
  { echo "cross-check: $SYSROOT_SRC/Cargo.lock missing (rust-web-src?)" >&2; exit 1; }
echo "cross-check: $(/usr/bin/rustc --version); $( [ "$clippy" = 1 ] && /usr/bin/clippy-driver --version || echo 'clippy skipped')"

[ "$install_only" = 1 ] && exit 0

# ---------------------------------------------------------------- checking
# shellcheck source=tools/cross-env.sh
. "$ROOT/tools/cross-env.sh"
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
# "src/x.rs:12:5  error[E0425]: cannot find ..." for each diagnostic.
summarise() {
  awk '/^(error|warning)(\[[A-Z0-9]+\])?: / { msg = $0; next }
       msg != "" && /^ *--> / { sub(/^ *--> /, ""); printf "  %s  %s\n", $0, msg; msg = "" }' "$1"
}

cargo_args=("-Zbuild-std=std,panic_abort" --locked)
[ "$offline" = 1 ] && cargo_args+=(--offline)
# shellcheck disable=SC2206
extra=(${CROSS_CARGO_ARGS:-})
[ "$all_targets" = 1 ] && extra+=(--all-targets)
mkdir -p "$log_dir" "$target_dir"

# One cargo run: step <target> <crate dir> <column> <title> <command...>.
# Prints ok or the diagnostics (all of them go to $log), adds a row to
# $results, and returns non-zero on failure.
step() {
  local t=$1 d=$2 col=$3 title=$4; shift 4
  local name=${d#"$ROOT"/} tmp s secs st n
  echo "== $t: $title ($name)"
  tmp=$(mktemp)
  s=$(now)
  if (cd "$d" && cross_cargo "$@") >"$tmp" 2>&1; then st=ok; else st=FAILED; fi
  secs=$(elapsed "$s" "$(now)")
  results+=("$(printf '%-24s %-28s %-7s %-7s %6ss' "$t" "$name" "$col" "$st" "$secs")")
  if [ $st = ok ]; then
    echo "   ok in ${secs}s"
    rm -f "$tmp"
    return 0
  fi
  { echo "### $name: $title --target $t"; cat "$tmp"; } >> "$log"
  n=$(grep -E '^error(\[[A-Z0-9]+\])?: ' "$tmp" | grep -vc '^error: could not compile' || true)
  echo "   FAILED in ${secs}s ($n errors; full output in $log):"
  summarise "$tmp"
  if grep -q '^error: could not compile' "$tmp"; then
    grep '^error: could not compile' "$tmp" | sed 's/^/   | /'
  else
    tail -n 5 "$tmp" | sed 's/^/   | /'   # not a compile error (network? lock file?)
  fi
  rm -f "$tmp"
  return 1
}

results=()
failed=0
for t in "${targets[@]}"; do
  log="$log_dir/cross-errors-$t.txt"
  : > "$log"
  tstatus=ok
  for d in "${crate_dirs[@]}"; do
    if ! step "$t" "$d" check "cargo check" \
         /usr/bin/cargo check --target "$t" "${cargo_args[@]}" "${extra[@]}"; then
      tstatus=FAILED
      continue
    fi
    [ "$clippy" = 1 ] || continue
    # cargo-clippy by absolute path: `cargo clippy` would find rustup's proxy
    # in $CARGO_HOME/bin first.  It runs $CARGO check with clippy-driver as
    # RUSTC_WORKSPACE_WRAPPER, which leaves the standard library's units
    # alone, so they are shared with cargo check.
    step "$t" "$d" clippy "cargo clippy -D warnings" \
      /usr/bin/cargo-clippy clippy --target "$t" "${cargo_args[@]}" "${extra[@]}" -- -D warnings ||
      tstatus=FAILED
  done
  if [ $tstatus = ok ]; then rm -f "$log"; else failed=1; fi
done

echo
echo "cross-check summary (target dir $target_dir):"
printf '  %s\n' "${results[@]}"
if [ $failed -ne 0 ]; then
  echo "cross-check: FAILED (errors in $log_dir/cross-errors-<target>.txt)"
  exit 1
fi
echo "cross-check: all targets pass"
