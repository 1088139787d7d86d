#!/usr/bin/env bash
# Runs a Windows executable under Wine in the project's prefix:
#   tools/wine/runner.sh prog.exe [args...]
# Meant as cargo's runner:
#   CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=/path/to/tools/wine/runner.sh
# The exit status is the program's.  The prefix (with the bcryptprimitives.dll
# stand-in in its system32) is made by tools/wine/setup.sh, run from here when
# it is missing.  No display is used; Wine's own messages are off unless
# WINEDEBUG is given in RUSTIPC_WINEDEBUG.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${WINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rustipc-wine}
export WINE_CACHE=$CACHE
if [ ! -f "$CACHE/prefix/system.reg" ] ||
   [ ! -f "$CACHE/prefix/drive_c/windows/system32/bcryptprimitives.dll" ]; then
  bash "$ROOT/tools/wine/setup.sh" -q >&2
fi
export WINEPREFIX=$CACHE/prefix WINEARCH=win64 WINEDLLOVERRIDES="mscoree,mshtml="
export WINEDEBUG=${RUSTIPC_WINEDEBUG:--all}
unset DISPLAY WAYLAND_DISPLAY
WINE=$(command -v wine64 || echo /usr/lib/wine/wine64)
exec "$WINE" "$@"
