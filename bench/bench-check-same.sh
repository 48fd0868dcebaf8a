#!/bin/sh
# Does a checker build give exactly a baseline build's results? The guard
# of every speed change (docs/check.md, "Speed"): for every built-in
# machine the checker explores to the fixpoint or within N states with
# -j 1, for three mutants, for --por on two machines and for lock-dropped
# under --interleave, the JSON line (seconds and bytes left out), the
# --save-states file (its seconds left out: the same 128-bit hashes, so
# the same state texts) and the counterexample must be byte for byte the
# baseline's. Prints SAME and exits 0, or names what differs and
# exits 1.
# usage: bench/bench-check-same.sh DMAOWN BASELINE [N (default 20000)]
set -u
NEW=$1
BASE=$2
N=${3:-20000}
MACHINES=${BENCH_SAME_MACHINES:-"qdf2400 no-iommu x86-desktop x86-server amd-desktop arm64-soc dpaa2 vfio-doc vfio-host sriov-host qemu-x86-vtd qemu-arm64-smmuv3 qemu-arm64-iort"}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT INT TERM
bad=0

# run BINARY TAG MACHINE [ARGS...]: its three outputs in $d/TAG.MACHINE.*
run() {
	b=$1 t=$2 m=$3
	shift 3
	"$b" check -q -j 1 --max-states "$N" --json \
		--save-states "$d/$t.$m.states" -o "$d/$t.$m.sh" "$@" "$m" \
		2>/dev/null |
		sed 's/"seconds":[0-9.]*,//; s/"bytes":[0-9]*,//; s/,"commuted":[0-9]*,"equivalent":[0-9]*,"i6_known":[0-9]*//' >"$d/$t.$m.json"
	[ -f "$d/$t.$m.states" ] || echo none >"$d/$t.$m.states"
	[ -f "$d/$t.$m.sh" ] || echo none >"$d/$t.$m.sh"
	# the figures line carries the run's seconds
	LC_ALL=C sed -i 's/^\(figures [0-9]* [0-9]* [0-9]*\) [0-9.]* /\1 S /' \
		"$d/$t.$m.states"
}

# same TAG MACHINE WHAT EXT...: compare the two builds' files
same() {
	t=$1 m=$2 what=$3
	shift 3
	for ext in "$@"; do
		cmp -s "$d/base$t.$m.$ext" "$d/new$t.$m.$ext" ||
			{ echo "DIFFERS: $what: $ext"; bad=1; }
	done
	echo "$what: $(head -c 140 "$d/new$t.$m.json")"
}

for m in $MACHINES; do
	run "$BASE" base "$m"
	run "$NEW" new "$m"
	same "" "$m" "$m" json states sh
done
for f in v7-order:qdf2400 release-keeps-domain:x86-desktop \
	no-probe-cleanup:vfio-host; do
	mu=${f%%:*} m=${f#*:}
	run "$BASE" "base-$mu" "$m" --fault "$mu"
	run "$NEW" "new-$mu" "$m" --fault "$mu"
	same "-$mu" "$m" "$mu on $m" json sh
done
# partial-order reduction takes its own path through the search
for m in qdf2400 x86-desktop; do
	run "$BASE" base-por "$m" --por
	run "$NEW" new-por "$m" --por
	same "-por" "$m" "--por on $m" json
done
# the interleavings: the same schedules, the same @concurrent block
b=$BASE t=base-il
for side in base new; do
	[ "$side" = new ] && b=$NEW t=new-il
	"$b" check -q --interleave --fault lock-dropped --json \
		-o "$d/$t.vfio-host.sh" vfio-host 2>/dev/null |
		sed 's/"seconds":[0-9.]*,//' >"$d/$t.vfio-host.json"
done
same "-il" vfio-host "lock-dropped under --interleave on vfio-host" json sh
if [ "$bad" -eq 0 ]; then
	echo "SAME as $BASE"
else
	echo "NOT THE SAME as $BASE"
fi
exit "$bad"
