#!/bin/sh
# Instructions a state of the checker, counted by callgrind (issue 13,
# item 2): unlike a rate, the count does not move with the load of a
# shared machine, so two builds compare run against run. For each machine,
# the first BENCH_INSTR_STATES states (default 1,000) with -j 1; with
# BASELINE (another dmaown binary, e.g. a release build of the commit
# before), its count beside and the ratio. Build both with
# --buildtype=release. Needs valgrind.
# usage: bench/bench-check-instr.sh [path/to/dmaown [path/to/baseline-dmaown]]
set -eu
DMAOWN=${1:-./build-rel/dmaown}
BASELINE=${2:-}
STATES=${BENCH_INSTR_STATES:-1000}
MACHINES=${BENCH_INSTR_MACHINES:-"x86-desktop vfio-host qdf2400 no-iommu arm64-soc"}

# instructions of one run, and the states it stored
count() {
	json=$(mktemp)
	n=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null \
		"$1" check -q -j 1 --max-states "$STATES" --json "$2" 2>&1 >"$json" |
		sed -n 's/.*Collected : //p')
	states=$(sed -n 's/.*"states":\([0-9]*\).*/\1/p' "$json")
	rm -f "$json"
}

if [ -n "$BASELINE" ]; then
	echo "| machine | states | instructions | a state | baseline | a state | ratio |"
	echo "|---|---|---|---|---|---|---|"
else
	echo "| machine | states | instructions | a state |"
	echo "|---|---|---|---|"
fi
for m in $MACHINES; do
	count "$DMAOWN" "$m"
	row="| $m | $states | $n | $((n / states)) |"
	if [ -n "$BASELINE" ]; then
		new=$n
		count "$BASELINE" "$m"
		row="$row $n | $((n / states)) | $(awk "BEGIN { printf \"%.2fx\", $n / $new }") |"
	fi
	echo "$row"
done
