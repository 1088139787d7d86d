#!/usr/bin/env bash
# Prepares Wine for running x86_64-pc-windows-gnu test binaries:
#  - installs Debian's wine64 (Wine 8) and mingw-w64's gcc when missing;
#  - builds the stand-in bcryptprimitives.dll (tools/wine/bcryptprimitives.c,
#    exports ProcessPrng, which Rust's std needs and Wine 8 lacks);
#  - creates a 64-bit Wine prefix non-interactively (no display, no Mono or
#    Gecko prompts) and puts the DLL into its system32.
# Everything goes into a cache outside the checkout ($WINE_CACHE, default
# ~/.cache/rustipc-wine): prefix/ and bcryptprimitives.dll.  Not in the
# checkout: a prefix's dosdevices/z: links to /, and R CMD build (R 4.2)
# copies the whole package directory before applying .Rbuildignore, so it
# would copy the whole file system.  Safe to run again:
# it does only what is missing or out of date.  -q: print nothing when ready.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${WINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rustipc-wine}
PREFIX=$CACHE/prefix
SHIM_SRC=$ROOT/tools/wine/bcryptprimitives.c
SHIM=$CACHE/bcryptprimitives.dll
quiet=0
[ "${1:-}" = "-q" ] && quiet=1
say() { [ $quiet = 1 ] || echo "wine-setup: $*"; }

have_deb() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
need=()
have_deb wine64 || need+=(wine64)
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
if [ ${#need[@]} -gt 0 ]; then
  echo "wine-setup: installing ${need[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  log=$(mktemp)
  if ! { DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -qq &&
         DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" </dev/null; } >"$log" 2>&1; then
    tail -n 20 "$log" >&2; rm -f "$log"; exit 1
  fi
  rm -f "$log"
fi

WINE=$(command -v wine64 || echo /usr/lib/wine/wine64)
[ -x "$WINE" ] || { echo "wine-setup: no wine64 binary" >&2; exit 1; }
WINESERVER=$(command -v wineserver || echo /usr/lib/wine/wineserver)

mkdir -p "$CACHE"
# One setup at a time (runner.sh may call this from parallel cargo runs).
exec 9>"$CACHE/.setup.lock"
flock 9
if [ ! -f "$SHIM" ] || [ "$SHIM_SRC" -nt "$SHIM" ]; then
  say "building $SHIM"
  x86_64-w64-mingw32-gcc -O2 -shared -s -o "$SHIM.tmp" "$SHIM_SRC" -ladvapi32
  mv "$SHIM.tmp" "$SHIM"
fi

export WINEPREFIX=$PREFIX WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY WAYLAND_DISPLAY
if [ ! -f "$PREFIX/system.reg" ] || [ ! -d "$PREFIX/drive_c/windows/system32" ]; then
  say "creating the Wine prefix $PREFIX"
  rm -rf "$PREFIX"
  start=$(date +%s.%N)
  "$WINE" wineboot -i </dev/null >/dev/null 2>&1 || true
  "$WINESERVER" -w
  [ -f "$PREFIX/system.reg" ] || { echo "wine-setup: wineboot did not create $PREFIX" >&2; exit 1; }
  say "prefix ready in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s"
fi
sys32=$PREFIX/drive_c/windows/system32
if ! cmp -s "$SHIM" "$sys32/bcryptprimitives.dll"; then
  cp "$SHIM" "$sys32/bcryptprimitives.dll"
fi
say "ready: $(WINEDEBUG=-all "$WINE" --version 2>/dev/null), prefix $PREFIX"
say "use: CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=$ROOT/tools/wine/runner.sh"
