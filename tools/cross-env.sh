# shellcheck shell=bash
# Sourced by tools/cross-check.sh and tools/wine/cargo-test.sh (needs $ROOT).
# cross_cargo CMD...: runs CMD (/usr/bin/cargo or /usr/bin/cargo-clippy) with
# Debian's rustc-web 1.96 and -Zbuild-std allowed, in a fixed environment:
# flags that differed between runs would make cargo rebuild the standard
# library, which is cached in $target_dir (default ~/.cache/rustipc-cross, as
# in the Makefile).
# RUSTC, CARGO and /usr/bin first on PATH: rustup's proxies in ~/.cargo/bin
# would otherwise run rustup's toolchain, which has no standard-library source.
target_dir=${CROSS_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rustipc-cross}
cross_cargo() {
  env -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS -u CARGO_BUILD_RUSTFLAGS \
      -u RUSTC_WRAPPER -u RUSTC_WORKSPACE_WRAPPER -u CARGO_BUILD_RUSTC_WRAPPER \
      -u RUSTUP_TOOLCHAIN -u CARGO_BUILD_TARGET \
      PATH="/usr/bin:$PATH" RUSTC=/usr/bin/rustc CARGO=/usr/bin/cargo \
      RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$target_dir" CARGO_TERM_COLOR=never \
      "$@"
}
