# rustipc: `make demo`, `make test`, `make bench`, `make soak`.
# Every target first installs what is missing (tools/install-deps.sh), then
# builds rustipc into the project-local library .Rlib/.
SHELL := /bin/bash
R_LIB := $(CURDIR)/.Rlib
# The same package built with the portable backend (RUSTIPC_BACKEND=portable).
R_LIB_PORTABLE := $(CURDIR)/.Rlib-portable
CARGO_TARGET := $(CURDIR)/.cargo-target
RSCRIPT := R_LIBS=$(R_LIB) Rscript
SOAK_SECONDS ?= 300

# The source tarball `make tarball` builds (its name from DESCRIPTION).
VERSION := $(shell sed -n 's/^Version: *//p' DESCRIPTION)
TARBALL := rustipc_$(VERSION).tar.gz

.PHONY: check-boundary deps install install-portable doc test test-rust test-r test-r-portable tarball check check-r45 demo bench soak soak-short soak-short-portable bench-portable bench-anchors clean cross-check wine-setup test-wine

deps:
	@bash tools/install-deps.sh

# The entry-point table of src/entrypoint.c against the Rust functions and
# the R code's .Call()s.
check-boundary:
	bash tools/check-boundary.sh

# Regenerate NAMESPACE and man/ from the roxygen comments (for developers).
doc: deps
	Rscript -e 'roxygen2::roxygenise(load_code = "source")'

install: deps
	@mkdir -p $(R_LIB)
	R CMD INSTALL --no-multiarch --library=$(R_LIB) .

install-portable: deps
	@mkdir -p $(R_LIB_PORTABLE)
	RUSTIPC_BACKEND=portable R CMD INSTALL --no-multiarch --library=$(R_LIB_PORTABLE) .

# Both backends' whole suites and soaks, the engine's tests (also for
# Windows, under Wine), the compile checks for macOS, FreeBSD and Windows,
# and R CMD check --as-cran on this machine's R and on R 4.5 (one tarball).
test: check-boundary install test-rust test-r soak-short install-portable test-r-portable soak-short-portable cross-check test-wine check check-r45

# The engine's tests (the rustipc-core crate: no R needed) keep their objects
# in a private directory of their own, removed after; clippy covers the
# engine and the R glue.
test-rust:
	for features in "" "--features portable"; do \
	  d=$$(mktemp -d /dev/shm/rustipc-cargo-XXXXXX 2>/dev/null || mktemp -d) && \
	  (cd src/rust && RUSTIPC_DIR=$$d CARGO_TARGET_DIR=$(CARGO_TARGET) \
	    cargo test --locked -p rustipc-core $$features); rc=$$?; rm -rf "$$d"; [ $$rc -eq 0 ] || exit $$rc; \
	  (cd src/rust && CARGO_TARGET_DIR=$(CARGO_TARGET) cargo clippy --locked --workspace --all-targets $$features -- -D warnings) || exit 1; \
	done

test-r:
	NOT_CRAN=true $(RSCRIPT) tools/run-tests.R

test-r-portable:
	NOT_CRAN=true R_LIBS=$(R_LIB_PORTABLE) Rscript tools/run-tests.R

# The source tarball that `check` and `check-r45` both check (built once
# per `make test`).  It carries every crate (tools/vendor.sh), so it
# installs with the network disabled.
tarball: deps
	rm -f rustipc_*.tar.gz
	bash tools/vendor.sh
	R_LIBS=$(R_LIB) R CMD build . ; rc=$$?; rm -f src/rust/vendor.tar.xz src/rust/vendor-config.toml; exit $$rc
	@size=$$(stat -c %s $(TARBALL)); echo "tarball: $(TARBALL), $$size bytes"; [ $$size -lt 5000000 ]

# R CMD check --as-cran on this machine's R, with the PDF manual, judged by
# tools/check-status.sh as on R 4.5: no ERROR, no WARNING and no NOTE but
# the internet's.  Before it: the offline install (`unshare -n`) and the API
# check of its rustipc.so (tools/check-api.R; skipped on R < 4.5).
check: tarball
	rm -rf rustipc.Rcheck .offline-lib
	mkdir -p .offline-lib && unshare -n R CMD INSTALL --library=.offline-lib $(TARBALL)
	R_LIBS=.offline-lib Rscript -e 'stopifnot(nchar(rustipc::uid()) == 11); cat("offline install works\n")'
	Rscript tools/check-api.R .offline-lib/rustipc/libs/rustipc.so
	rm -rf .offline-lib
	env -u NOT_CRAN R_LIBS=$(R_LIB) R_PROFILE_USER=$(CURDIR)/tools/check-profile.R _R_CHECK_CRAN_INCOMING_REMOTE_=false \
	  R CMD check --as-cran $(TARBALL); rc=$$?; \
	  bash tools/check-status.sh rustipc.Rcheck/00check.log || exit 1; exit $$rc

# The same tarball on R 4.5 as CRAN checks it (tools/r45-check.sh): offline
# install with rustc 1.85, the API check, R CMD check --as-cran with the
# manual, and the whole testthat suite; in a Debian trixie root built once
# and cached in /var/cache/rustipc-r45 (tools/r45-root.sh; needs root).
check-r45: tarball
	bash tools/r45-check.sh $(TARBALL)

demo: install
	$(RSCRIPT) demo/demo.R

bench: install bench-anchors
	$(RSCRIPT) bench/run.R

# What the bench compares against (tools/bench-anchors.sh): rustipc at the
# commit of the speed issue, and interprocess from INTERPROCESS_SRC.
bench-anchors:
	INTERPROCESS_SRC=$(INTERPROCESS_SRC) bash tools/bench-anchors.sh

# The same benchmarks with the portable backend.
bench-portable: install-portable bench-anchors
	R_LIBS=$(R_LIB_PORTABLE) Rscript bench/run.R

soak: install
	SOAK_SECONDS=$(SOAK_SECONDS) $(RSCRIPT) soak/soak.R

# The bounded soak that `make test` runs.
soak-short:
	SOAK_SECONDS=30 $(RSCRIPT) soak/soak.R

soak-short-portable:
	SOAK_SECONDS=30 R_LIBS=$(R_LIB_PORTABLE) Rscript soak/soak.R

clean:
	rm -rf $(R_LIB) $(R_LIB_PORTABLE) $(CARGO_TARGET) rustipc_*.tar.gz rustipc.Rcheck src/rust/target

# Cross-target compile checks (cargo check + clippy -D warnings for macOS x86_64
# and arm64, FreeBSD, Windows) with Debian's rustc-web and -Zbuild-std; the
# standard library of each target is cached (see CROSS_TARGET_DIR).  `make
# test` runs it for all four.  `make cross-check CROSS_TARGETS=x86_64-apple-darwin`.
.PHONY: cross-check wine-setup test-wine
# Compiled and linted (engine and glue, tests included); Windows' engine
# tests also run, under Wine (test-wine).
CROSS_TARGETS ?= x86_64-apple-darwin aarch64-apple-darwin x86_64-unknown-freebsd x86_64-pc-windows-gnu
# The standard library built for each target is cached outside the checkout
# (it does not depend on rustipc), so fresh clones on the same machine, CI's
# included, reuse it.
CROSS_TARGET_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/rustipc-cross
cross-check:
	CROSS_TARGET_DIR=$(CROSS_TARGET_DIR) CROSS_CARGO_ARGS="--workspace" CROSS_ALL_TARGETS=1 \
	  bash tools/cross-check.sh $(CROSS_TARGETS)

# Wine 8 prefix (~/.cache/rustipc-wine, outside the checkout: see
# tools/wine/setup.sh) with the bcryptprimitives.dll stand-in, for
# running x86_64-pc-windows-gnu test binaries (tools/wine/runner.sh as cargo's
# runner; tools/wine/cargo-test.sh runs `cargo test` that way).
wine-setup:
	bash tools/wine/setup.sh

# The engine's tests (rustipc-core, cross-process ones included) built for
# x86_64-pc-windows-gnu and run under Wine 8, in an object directory of
# their own (a Wine path to a Unix temporary directory), removed after; a
# passing run must leave nothing there but the token files of the children
# it killed (.uid-*, reused by later processes).
# Installs what is missing (rustc-web, mingw-w64, wine64; see
# tools/wine/cargo-test.sh); the Windows standard library is cached in
# CROSS_TARGET_DIR.
test-wine:
	d=$$(mktemp -d /tmp/rustipc-wine-XXXXXX) && \
	  RUSTIPC_DIR="Z:$$(echo "$$d" | tr / '\\')" CROSS_TARGET_DIR=$(CROSS_TARGET_DIR) \
	  bash tools/wine/cargo-test.sh --crate src/rust/core; rc=$$?; \
	left=$$(ls -A "$$d" | grep -v '^\.uid-'); rm -rf "$$d"; \
	if [ $$rc -eq 0 ] && [ -n "$$left" ]; then echo "test-wine: the tests left: $$left"; exit 1; fi; exit $$rc
