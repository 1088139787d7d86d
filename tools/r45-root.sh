#!/usr/bin/env bash
# A Debian trixie root with R 4.5 (the R release CRAN checks with), built
# once and cached outside the checkout, so that `make test` can check the
# package there as CRAN does (tools/r45-check.sh).
#
#   tools/r45-root.sh            build the root if it is missing or stale
#   tools/r45-root.sh run CMD    run CMD (a bash command line) inside it
#
# The root lives in $RUSTIPC_R45_ROOT (default /var/cache/rustipc-r45: CI
# runs on the session's machine, so later runs reuse it).  It is built from
# the same Debian archive this machine's apt uses, in a temporary directory
# that is renamed into place only when every step worked; a stamp file names
# the package list it was built with, so a changed list builds it again.
#
# Every command inside runs in a private mount namespace (unshare -m): the
# bind mounts of /proc, /dev, /dev/pts and /dev/shm vanish with it, however
# the command ends, so no failed step leaves a mount behind.  (A private
# mount namespace is also what lets `unshare -m` work again inside.)
set -euo pipefail

ROOT=${RUSTIPC_R45_ROOT:-/var/cache/rustipc-r45}
SUITE=trixie
# What the checks need: R and Rust (trixie's rustc 1.85, the oldest
# toolchain rustipc promises to build with), the packages the tests use,
# and what `R CMD check --as-cran` runs itself: pandoc, qpdf, tidy,
# checkbashisms (devscripts), V8 (math rendering) and TeX Live for the PDF
# manual (inconsolata.sty is in texlive-fonts-extra; texi2dvi, which R runs
# pdflatex through as on CRAN, is in texinfo: without it R emulates it and
# warns).
PACKAGES="r-base-dev cargo rustc r-cran-testthat r-cran-callr r-cran-processx
r-cran-ps r-cran-filelock r-cran-knitr r-cran-rmarkdown r-cran-withr
r-cran-later r-cran-promises r-cran-httpuv r-cran-v8 pandoc qpdf tidy devscripts
texlive-latex-base texlive-latex-recommended texlive-fonts-recommended
texlive-latex-extra texlive-fonts-extra texinfo xz-utils util-linux procps
ca-certificates"
STAMP_TEXT="$SUITE $(echo $PACKAGES)"

log() { echo "r45-root: $*" >&2; }

# Runs "$@" inside root $1 in a private mount namespace with the pseudo file
# systems bound in.
in_root() {
  local root=$1; shift
  unshare -m --propagation private -- bash -euc '
    root=$1; shift
    for d in proc dev dev/pts dev/shm; do
      mkdir -p "$root/$d"
      mount --bind "/$d" "$root/$d"
    done
    cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
    exec chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      DEBIAN_FRONTEND=noninteractive "$@"
  ' in_root "$root" "$@"
}

mirror() {
  local m=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

build() {
  if [ "$(id -u)" -ne 0 ]; then
    log "building the R 4.5 root needs root (debootstrap, chroot, mounts)"; exit 2
  fi
  command -v debootstrap >/dev/null 2>&1 || {
    log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap </dev/null >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap </dev/null >/dev/null; }
  }
  local tmp="$ROOT.tmp"
  rm -rf "$tmp"
  mkdir -p "$(dirname "$ROOT")"
  local m; m=$(mirror)
  log "debootstrap $SUITE from $m into $tmp"
  debootstrap --variant=minbase "$SUITE" "$tmp" "$m" >"$tmp.log" 2>&1 ||
    { tail -20 "$tmp.log" >&2; log "debootstrap failed (log: $tmp.log)"; exit 1; }
  printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$m" "$SUITE" > "$tmp/etc/apt/sources.list.d/debian.sources"
  rm -f "$tmp/etc/apt/sources.list"
  log "installing R 4.5, Rust and the check tools (a few minutes)"
  # shellcheck disable=SC2086
  in_root "$tmp" bash -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends $(echo $PACKAGES) >/var/log/r45-install.log 2>&1 || { tail -30 /var/log/r45-install.log; exit 1; }; apt-get clean"
  echo "$STAMP_TEXT" > "$tmp/.rustipc-r45-stamp"
  rm -rf "$ROOT"
  mv "$tmp" "$ROOT"
  rm -f "$tmp.log"
  log "ready: $(in_root "$ROOT" R --version | head -1)"
}

fresh() {
  [ -f "$ROOT/.rustipc-r45-stamp" ] && [ "$(cat "$ROOT/.rustipc-r45-stamp")" = "$STAMP_TEXT" ]
}

case "${1:-}" in
  run)
    shift
    fresh || build
    in_root "$ROOT" bash -c "$*"
    ;;
  path)
    echo "$ROOT"
    ;;
  "")
    if fresh; then log "cached: $ROOT"; else build; fi
    ;;
  *)
    echo "usage: tools/r45-root.sh [run CMD | path]" >&2; exit 2
    ;;
esac
