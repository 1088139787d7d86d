#!/usr/bin/env bash
# Judges an `R CMD check` log the way CRAN's incoming checks do:
#
#   tools/check-status.sh path/to/rustipc.Rcheck/00check.log
#
# Prints the Status: line and every NOTE, WARNING and ERROR with its
# details, and exits 1 on any ERROR or WARNING, and on any NOTE except
# those that only say the check had no internet (this machine never has:
# the pattern below).  Used by `make check` (system R) and by
# tools/r45-check.sh (R 4.5), so both judge alike.
set -euo pipefail

log=${1:?usage: tools/check-status.sh 00check.log}
[ -f "$log" ] || { echo "check-status: $log not found" >&2; exit 1; }

# A NOTE is tolerated only when every line of its details matches this:
# R CMD check asks a time server (worldtimeapi.org, ...) for the time.
INTERNET_ONLY='^(unable to verify current time)$'

status=$(grep -E '^Status: ' "$log" | tail -n 1 || true)
if [ -z "$status" ]; then
  echo "check-status: no Status: line in $log (the check did not finish):"
  tail -n 20 "$log" | sed 's/^/  | /'
  exit 1
fi
echo "$status"

# One record per problem: KIND<TAB>TOLERATED<TAB>title<TAB>details (lines
# joined by \037, so that nothing in them is taken for an escape).
# A check's result ends its "* checking ..." line ("... NOTE"), or, after
# output of its own (tests, examples), stands on a line of its own (" ERROR").
problems=$(awk -v ok="$INTERNET_ONLY" '
  function flush() {
    if (kind != "") {
      tol = (kind == "NOTE" && nbody > 0 && allok) ? "yes" : "no"
      printf "%s\t%s\t%s\t%s\n", kind, tol, title, body
    }
    kind = ""; body = ""; nbody = 0; allok = 1
  }
  /^\* / {
    flush(); title = $0
    if (match($0, / \.\.\. (NOTE|WARNING|ERROR)$/)) { kind = substr($0, RSTART + 5); sub(/ \.\.\. (NOTE|WARNING|ERROR)$/, "", title) }
    next
  }
  /^Status: / { flush(); title = ""; next }
  kind == "" && title != "" && /^ *(NOTE|WARNING|ERROR)$/ { kind = $1; next }
  kind != "" {
    if ($0 ~ /^[[:space:]]*$/) next
    line = $0; sub(/^[[:space:]]+/, "", line)
    body = body (nbody ? "\037" : "") $0; nbody++
    if (line !~ ok) allok = 0
  }
  END { flush() }
' "$log")

bad=0
notes=0
while IFS=$'\t' read -r kind tol title body; do
  [ -n "$kind" ] || continue
  [ "$kind" = NOTE ] && notes=$((notes + 1))
  if [ "$tol" = yes ]; then tag=" (needs the internet: tolerated)"; else tag=""; bad=1; fi
  title=${title#\* }
  echo "$kind: ${title% }$tag"
  printf '%s\n' "$body" | tr '\037' '\n' | sed 's/^/    /'
done <<<"$problems"

# The Status line counts the NOTEs; if the parser found another number the
# log has a shape it does not know, and nothing can be tolerated.
want=$(echo "$status" | grep -Eo '[0-9]+ NOTEs?' | grep -Eo '[0-9]+' || echo 0)
if [ "$want" != "$notes" ]; then
  echo "check-status: Status counts $want NOTE(s) but $notes were found in $log"
  bad=1
fi
if echo "$status" | grep -Eq 'ERROR|WARNING'; then bad=1; fi

if [ $bad -ne 0 ]; then
  echo "check-status: FAILED ($log)"
  exit 1
fi
echo "check-status: ok"
