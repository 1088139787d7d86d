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
# R CMD check --as-cran wants these: checkbashisms, qpdf (PDF sizes), tidy
# (validates the HTML manual).
command -v checkbashisms >/dev/null 2>&1 || need+=(devscripts)
command -v qpdf >/dev/null 2>&1 || need+=(qpdf)
command -v tidy >/dev/null 2>&1 || need+=(tidy)
# `make check` builds the PDF manual as CRAN does: pdflatex and the LaTeX
# packages Rd2pdf uses (inconsolata.sty is in texlive-fonts-extra), run
# through texi2dvi (texinfo; without it R emulates it, with a warning).
if ! command -v pdflatex >/dev/null 2>&1 || ! command -v kpsewhich >/dev/null 2>&1 ||
   ! kpsewhich inconsolata.sty >/dev/null 2>&1; then
  for p in texlive-latex-base texlive-latex-recommended texlive-fonts-recommended \
           texlive-latex-extra texlive-fonts-extra; do
    have_deb "$p" || need+=("$p")
  done
fi
command -v texi2dvi >/dev/null 2>&1 || need+=(texinfo)
for p in testthat callr filelock roxygen2 knitr rmarkdown; do
  if command -v Rscript >/dev/null 2>&1 &&
     Rscript -e "quit(status = !requireNamespace('$p', quietly = TRUE))" >/dev/null 2>&1; then
    continue
  fi
  deb=r-cran-$(echo "$p" | tr '[:upper:]' '[:lower:]')
  have_deb "$deb" || need+=("$deb")
done

# V8 is what R CMD check (R >= 4.3) renders the manual's math with; R 4.2
# does without.  Debian's r-cran-v8 needs Debian's nodejs, so it is left out
# (with a message) where apt would have to replace or remove a package for
# it, e.g. a nodejs from nodesource.  (apt-get -s only simulates.)
if ! { command -v Rscript >/dev/null 2>&1 &&
       Rscript -e "quit(status = !requireNamespace('V8', quietly = TRUE))" >/dev/null 2>&1; } &&
   ! have_deb r-cran-v8; then
  if sim=$(apt-get install -s --no-install-recommends r-cran-v8 2>&1) && ! grep -q '^Remv ' <<<"$sim"; then
    need+=(r-cran-v8)
  else
    echo "install-deps: not installing r-cran-v8 (apt cannot without replacing packages, nodejs?);" \
      "R CMD check goes without V8"
  fi
fi

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
