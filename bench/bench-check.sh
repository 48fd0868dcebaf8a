#!/bin/sh
# Checker figures: the default run on every built-in machine (states,
# states/s, bytes per state, complete or the depth reached), each machine
# with one thread then two (BENCH_STATES states each, default 50,000), and
# the time to find each mutant. A measurement, not a
# test: it never fails on timing, only when the checker misbehaves.
# usage: bench/bench-check.sh [path/to/dmaown]
set -eu
DMAOWN=${1:-./build/dmaown}

echo "== default run (every built-in machine, to the fixpoint within 50,000 states, a thread per CPU)"
start=$(date +%s.%N)
"$DMAOWN" check -q
end=$(date +%s.%N)
echo "total: $(awk "BEGIN { printf \"%.3f\", $end - $start }") s"

# Per machine, one thread then two: the same states and transitions (the
# search's result does not depend on the threads), the time does.
for j in 1 2; do
	echo
	echo "== -j $j, every built-in machine, --depth max --max-states ${BENCH_STATES:-50000}"
	"$DMAOWN" check -q -j "$j" --max-states "${BENCH_STATES:-50000}"
done

echo
echo "== mutants (machine, mode: seconds, counterexample)"
mutant() {
	name=$1
	machine=$2
	shift 2
	start=$(date +%s.%N)
	status=0
	out=$("$DMAOWN" check -q -j 1 "$@" --fault "$name" "$machine") || status=$?
	end=$(date +%s.%N)
	if [ "$status" -ne 1 ]; then
		echo "bench-check: mutant $name not caught on $machine" >&2
		exit 1
	fi
	echo "$name on $machine: $(awk "BEGIN { printf \"%.3f\", $end - $start }") s; $(echo "$out" | grep -m1 ' violated ')"
}
mutant v7-order qdf2400
mutant claim-ignores-count vfio-host
mutant release-keeps-domain vfio-host
mutant use-ignores-owner vfio-host
mutant no-probe-cleanup vfio-host --probe-faults
mutant lock-dropped vfio-host --interleave
