#!/usr/bin/env bash
# Installs what building, testing and demonstrating rustipc needs on a fresh
# Debian/Ubuntu machine that has only Rust: R and Debian's r-cran-* packages
# (CRAN itself is not needed), with --no-install-recommends, and only what is
# missing.  Safe to run again: when nothing is missing it does nothing.
set -euo pipefail

need=()
have_deb() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }

command -v R >/dev/null 2>&1 || need+=(r-base-dev)
command -v pandoc >/dev/null 2>&1 || need+=(pandoc)
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
# R CMD check --as-cran wants these two.
command -v checkbashisms >/dev/null 2>&1 || need+=(devscripts)
command -v qpdf >/dev/null 2>&1 || need+=(qpdf)
for p in testthat callr filelock roxygen2 knitr rmarkdown; do
  if command -v Rscript >/dev/null 2>&1 &&
     Rscript -e "quit(status = !requireNamespace('$p', quietly = TRUE))" >/dev/null 2>&1; then
    continue
  fi
  have_deb "r-cran-$p" || need+=("r-cran-$p")
done

if [ ${#need[@]} -eq 0 ]; then
  echo "install-deps: everything is installed"
  exit 0
fi

echo "install-deps: installing ${need[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" </dev/null
