#!/bin/sh
# The figures of docs/performance.md and docs/check.md, where a table hides
# the shape (issue 17): gnuplot draws them as SVG into docs/figures/, beside
# the data they come from.
#
# - check-depth.svg: the states first reached at each depth, for every
#   built-in machine, from 'dmaown check --json' (its "level_states"), the
#   default run (to the fixpoint within 50,000 states);
# - scale.svg: bench-scale's times (boot, moving every endpoint to
#   vfio-pci, the whole run) and peak memory against the number of devices,
#   from 'bench-scale --json' (1,024 to BENCH_MAX devices, default 65,536).
#
# A measurement, not a test: the figures move with the machine it runs on.
# usage: bench/bench-plots.sh [BUILD_DIR [OUT_DIR]]
set -eu
build=${1:-build}
out=${2:-docs/figures}
max=${BENCH_MAX:-65536}
command -v gnuplot >/dev/null 2>&1 || {
	echo "bench-plots: gnuplot is not installed (apt-get install gnuplot-nox)" >&2
	exit 2
}
mkdir -p "$out"

# ---- states per depth ----
"$build/dmaown" check -q --json >"$out/check-depth.json" || [ $? -eq 1 ]
python3 - "$out/check-depth.json" >"$out/check-depth.dat" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    levels = r.get("level_states") or []
    print(f"# {r['machine']}{'' if r['complete'] else ' *'}")
    for depth, n in enumerate(levels):
        if n:
            print(depth, n)
    print("\n")
EOF
# one line per machine, titled with its name
plot=$(awk -v f="$out/check-depth.dat" '/^# / {
	sub(/^# /, ""); gsub(/"/, "");
	printf "%s\"%s\" index %d using 1:2 pointsize 0.6 title \"%s\"",
		n ? ", " : "", f, n, $0; n++ }' "$out/check-depth.dat")
gnuplot <<EOF
set terminal svg size 860,520 font "Helvetica,12" background "#ffffff"
set output "$out/check-depth.svg"
set title "dmaown check: states first reached at each depth (default run; * stopped at 50,000 states)"
set xlabel "depth (actions from boot)"
set ylabel "new states"
set logscale y
set grid
set key inside right top
set style data linespoints
plot $plot
EOF

# ---- time and memory against devices ----
"$build/bench/bench-scale" --json --max "$max" >"$out/scale.json"
python3 - "$out/scale.json" >"$out/scale.dat" <<'EOF'
import json, sys
print("# devices boot_s to_vfio_s total_s maxrss_MB")
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(r["devices"], r["boot"], r["to_vfio"], r["total"],
          round(r["maxrss_kb"] / 1024, 1))
EOF
gnuplot <<EOF
set terminal svg size 960,420 font "Helvetica,12" background "#ffffff"
set output "$out/scale.svg"
set multiplot layout 1,2 title "bench-scale: a machine of N devices in N/16 groups"
set logscale x 2
set logscale y 10
set grid
set xlabel "devices"
set key right bottom
set style data linespoints
set ylabel "seconds"
set title "time"
plot "$out/scale.dat" using 1:2 title "boot", \
     "" using 1:3 title "every endpoint to vfio-pci", \
     "" using 1:4 title "whole run"
set ylabel "MB"
set title "peak memory (max RSS)"
plot "$out/scale.dat" using 1:5 title "max RSS"
unset multiplot
EOF
echo "bench-plots: wrote $out/check-depth.svg and $out/scale.svg"
