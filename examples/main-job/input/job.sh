#!/bin/sh
# The main job `npm run demo` runs through `ws run`: it reads input/ (mounted read-only) and writes
# output/ (mounted read-write). Paths are relative to the workspace root (--workdir /), so the job
# runs the same with the bubblewrap sandbox (mounts at /input and /output) and without it.
set -eu
out=output/report.md
{
  echo "# Report"
  echo
  echo "## Sales by region (input/sales.csv)"
  echo
  awk -F, 'NR > 1 { total[$2] += $3 } END { for (r in total) printf "- %s: %d\n", r, total[r] }' input/sales.csv | sort
  echo
  echo "## Notes (input/notes)"
  echo
  for f in input/notes/*.txt; do
    printf -- "- %s: %s words\n" "$(basename "$f")" "$(wc -w < "$f" | tr -d ' ')"
  done
} > "$out"
# The input is read-only: under the sandbox the kernel refuses this write; without it, ws drops
# the file afterwards and counts it in the summary as a write refused under a read-only mount.
if touch input/should-not-exist 2>/dev/null; then
  echo "job: input/ took a write (no sandbox); ws will drop it" >&2
else
  echo "job: input/ is read-only, the write was refused" >&2
fi
echo "job: wrote $out"
