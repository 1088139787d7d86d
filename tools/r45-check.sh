#!/usr/bin/env bash
# Checks a source tarball on R 4.5 the way CRAN does, in the Debian trixie
# root of tools/r45-root.sh (R 4.5, rustc/cargo 1.85: the oldest toolchain
# rustipc promises to build with):
#
#   tools/r45-check.sh rustipc_X.Y.Z.tar.gz
#
#  1. R CMD INSTALL into a private library with the network off (unshare -n)
#     and HOME an empty directory: the log must show ./configure's rustc and
#     cargo versions, cargo must build offline from the vendored crates with
#     -j 2 (CRAN allows two jobs), and HOME must stay empty (CRAN forbids
#     writing there; cargo would make ~/.cargo);
#  2. tools/check-api.R on the installed rustipc.so (R's API only);
#  3. R CMD check --as-cran with the PDF manual, NOT_CRAN unset, judged by
#     tools/check-status.sh (no ERROR, WARNING, or NOTE but internet ones);
#  4. the whole testthat suite (NOT_CRAN=true, tools/run-tests.R) against
#     the installed package.
# Every step runs even when an earlier one failed (but the install), so one
# run shows every problem; exits 1 if any failed.  Everything happens in a
# fresh directory under the root's /tmp, removed at the end (kept with
# RUSTIPC_R45_KEEP=1).
set -euo pipefail

# ---------------------------------------------------------------- inside
# The script copies itself into the working directory and runs there, in the
# root, as: r45-check.sh --inside DIR TARBALL-NAME.
if [ "${1:-}" = "--inside" ]; then
  W=$2; TB=$W/$3
  cd "$W"
  failed=()
  now() { date +%s; }
  step() { echo; echo "== r45-check: $*"; }
  took() { echo "   ($(( $(now) - $1 ))s)"; }

  # Makevars runs cargo silently (an @ recipe), so the command line is not in
  # the install log; this stand-in prints it first.  rustc sits next to it
  # because ./configure looks for rustc beside cargo.
  mkdir -p bin lib home home-check home-tests tmp
  # Every R session's temporary directory in here too, so it goes with the
  # rest (the suite kills R processes, which leave theirs behind).
  export TMPDIR=$W/tmp
  cat > bin/cargo <<'SH'
#!/bin/sh
echo "r45-check: cargo $*" >&2
exec /usr/bin/cargo "$@"
SH
  chmod +x bin/cargo
  ln -s /usr/bin/rustc bin/rustc

  step "R CMD INSTALL (no network, HOME empty)"
  t=$(now)
  rc=0
  env -u NOT_CRAN HOME="$W/home" PATH="$W/bin:$PATH" \
    unshare -n R CMD INSTALL --library="$W/lib" "$TB" >install.log 2>&1 || rc=$?
  took "$t"
  grep -E '^(using (cargo|rustc):|vendored crates:|rustipc backend:|r45-check: cargo )' install.log | sed 's/^/   /' || true
  if [ $rc -ne 0 ]; then
    tail -n 40 install.log | sed 's/^/   | /'
    echo "r45-check: FAILED: R CMD INSTALL exited with $rc"
    exit 1
  fi
  grep -q '^using rustc: rustc ' install.log || failed+=("install log: no rustc version from ./configure")
  grep -q '^using cargo: cargo ' install.log || failed+=("install log: no cargo version from ./configure")
  grep -q '^vendored crates: yes' install.log || failed+=("install: the tarball has no vendored crates")
  build=$(grep -E '^r45-check: cargo build ' install.log || true)
  [ -n "$build" ] || failed+=("install log: cargo build was not run")
  case " $build " in *" -j 2 "*) ;; *) failed+=("cargo build without -j 2: $build") ;; esac
  case " $build " in *" --offline "*) ;; *) failed+=("cargo build without --offline: $build") ;; esac
  if [ -n "$(ls -A home)" ]; then
    failed+=("the install wrote into HOME: $(cd home && find . -mindepth 1 -maxdepth 3 | head -n 10 | tr '\n' ' ')")
  fi
  so=$W/lib/rustipc/libs/rustipc.so
  [ -f "$so" ] || { echo "r45-check: FAILED: $so missing"; exit 1; }

  step "check-api on the installed rustipc.so"
  Rscript check-api.R "$so" | sed 's/^/   /' || failed+=("check-api: symbols outside R's API (table above)")

  # The manual is built (pdflatex, inconsolata), NOT_CRAN is unset as on
  # CRAN, and R CMD check's look-ups in package repositories get an empty
  # local repository (check-profile.R): there is no network here.
  step "R CMD check --as-cran (with the manual)"
  t=$(now)
  rc=0
  env -u NOT_CRAN HOME="$W/home-check" R_PROFILE_USER="$W/check-profile.R" \
    _R_CHECK_CRAN_INCOMING_REMOTE_=false \
    unshare -n R CMD check --as-cran "$TB" >check.out 2>&1 || rc=$?
  took "$t"
  log=$W/rustipc.Rcheck/00check.log
  if [ -f "$log" ]; then
    bash check-status.sh "$log" | sed 's/^/   /' ||
      failed+=("R CMD check --as-cran: $(grep -E '^Status: ' "$log" | tail -n 1 || echo 'did not finish')")
    [ $rc -eq 0 ] || failed+=("R CMD check exited with $rc")
  else
    tail -n 30 check.out | sed 's/^/   | /'
    failed+=("R CMD check --as-cran wrote no 00check.log (exit $rc)")
  fi

  # The whole suite, as a developer runs it (NOT_CRAN=true), on R 4.5.
  step "testthat suite (NOT_CRAN=true) on R 4.5"
  t=$(now)
  mkdir -p src && tar -xzf "$TB" -C src
  (cd src/rustipc && HOME="$W/home-tests" NOT_CRAN=true R_LIBS="$W/lib" Rscript "$W/run-tests.R") >tests.out 2>&1 ||
    failed+=("testthat suite: $(grep -E '^testthat: ' tests.out | tail -n 1 || echo 'did not finish')")
  took "$t"
  grep -E '^(testthat: |══ Failed|── (Failure|Error))' tests.out | sed 's/^/   /' || true
  if ! grep -q '^testthat: [0-9]* passed, 0 failed' tests.out; then
    tail -n 40 tests.out | sed 's/^/   | /'
  fi

  # CRAN's policy: neither the check nor the tests may write in HOME.
  for h in home-check home-tests; do
    if [ -n "$(ls -A "$h")" ]; then
      failed+=("something wrote into HOME ($h): $(cd "$h" && find . -mindepth 1 -maxdepth 3 | head -n 10 | tr '\n' ' ')")
    fi
  done

  echo
  if [ ${#failed[@]} -gt 0 ]; then
    echo "r45-check: FAILED on $(R --version | head -n 1):"
    printf '  - %s\n' "${failed[@]}"
    exit 1
  fi
  echo "r45-check: all passed on $(R --version | head -n 1)"
  exit 0
fi

# ---------------------------------------------------------------- outside
[ $# -eq 1 ] && [ -f "$1" ] || { echo "usage: tools/r45-check.sh rustipc_X.Y.Z.tar.gz" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
tarball=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
start=$(date +%s)

bash "$HERE/r45-root.sh"                       # builds the root if missing or stale
R45=$(bash "$HERE/r45-root.sh" path)
mkdir -p "$R45/tmp"
chmod 1777 "$R45/tmp"
work=$(mktemp -d "$R45/tmp/rustipc-check-XXXXXX")
# RUSTIPC_R45_KEEP=1 keeps the directory (logs, rustipc.Rcheck) to look at.
if [ -n "${RUSTIPC_R45_KEEP:-}" ]; then
  trap 'echo "r45-check: kept $work"' EXIT
else
  trap 'rm -rf "$work"' EXIT
fi
trap 'exit 130' INT TERM HUP                   # so that the EXIT trap runs
inside=/tmp/$(basename "$work")                # the same directory, seen from the root

cp "$tarball" "$work/"
cp "$HERE/r45-check.sh" "$HERE/check-api.R" "$HERE/check-status.sh" \
   "$HERE/check-profile.R" "$HERE/run-tests.R" "$work/"
rc=0
bash "$HERE/r45-root.sh" run "bash $inside/r45-check.sh --inside $inside $(basename "$tarball")" || rc=$?
echo "r45-check: $(( $(date +%s) - start ))s"
exit $rc
