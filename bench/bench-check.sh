#!/bin/sh
# Checker figures (issue 13, items 2, 6 and 8), printed as the Markdown
# tables docs/check.md shows:
#  1. every built-in machine with -j 1 and -j 2, to the fixpoint or
#     BENCH_STATES states (default 50,000): states, transitions, complete
#     or not, diameter or depth reached, seconds, states/s, bytes a state;
#     with BASELINE (another dmaown binary, e.g. a release build of the
#     commit before), its -j 1 figures beside;
#  2. the time to find each mutant on each machine, -j 1 and -j 2, within
#     BENCH_MUTANT_STATES states (default 10,000), and lock-dropped with
#     --interleave;
#  3. partial-order reduction: what each machine reaches within
#     BENCH_STATES without and with --por (a depth bound would compare
#     nothing: the reduced graph's depth is not the orders it covers).
# A measurement, not a test: it fails only when the checker misbehaves
# (a mutant not caught on the machine the test suite catches it on, or a
# state count that differs between -j 1 and -j 2).
# usage: bench/bench-check.sh [path/to/dmaown [path/to/baseline-dmaown]]
set -eu
DMAOWN=${1:-./build-rel/dmaown}
BASELINE=${2:-}
STATES=${BENCH_STATES:-50000}
MSTATES=${BENCH_MUTANT_STATES:-10000}
MACHINES="qdf2400 no-iommu x86-desktop x86-server amd-desktop arm64-soc dpaa2 vfio-doc vfio-host"
MUTANTS="v7-order claim-ignores-count release-keeps-domain use-ignores-owner no-probe-cleanup"

# one field of check's one-line JSON
field() {
	printf '%s\n' "$1" | sed -n "s/.*\"$2\":\\([^,}]*\\).*/\\1/p" | tr -d '"'
}

run_json() {
	"$@" --json 2>/dev/null || true
}

# CPU seconds (user + system) the shell's children have used so far: on a
# shared machine the wall clock measures the others' load too
cpu_file=$(mktemp)
trap 'rm -f "$cpu_file"' EXIT
cpu_now() {
	times >"$cpu_file"
	cpu=$(awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/);
		printf "%.3f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$cpu_file")
}

# -j 1 on one machine: its JSON in $out, the CPU seconds it took in $took
run_cpu() {
	cpu_now
	c0=$cpu
	"$@" --json >"$cpu_file.out" 2>/dev/null || true
	cpu_now
	out=$(cat "$cpu_file.out")
	rm -f "$cpu_file.out"
	took=$(awk "BEGIN { printf \"%.3f\", $cpu - $c0 }")
}

echo "# dmaown check figures: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "## Every built-in machine, --depth max --max-states $STATES"
echo
echo "Seconds are wall time; \"CPU states/s\" counts the CPU time the run used (user and system), which the other jobs of a shared machine disturb less."
echo
if [ -n "$BASELINE" ]; then
	echo "| machine | states | transitions | complete | diameter / depth | -j 1 s | -j 1 states/s | -j 1 CPU states/s | -j 2 s | -j 2 states/s | B/state | before: -j 1 CPU states/s |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
else
	echo "| machine | states | transitions | complete | diameter / depth | -j 1 s | -j 1 states/s | -j 1 CPU states/s | -j 2 s | -j 2 states/s | B/state |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
fi
for m in $MACHINES; do
	run_cpu "$DMAOWN" check -q -j 1 --max-states "$STATES" "$m"
	one=$out
	cpu1=$took
	two=$(run_json "$DMAOWN" check -q -j 2 --max-states "$STATES" "$m")
	s1=$(field "$one" states)
	s2=$(field "$two" states)
	if [ "$s1" != "$s2" ]; then
		echo "bench-check: $m: $s1 states with -j 1, $s2 with -j 2" >&2
		exit 1
	fi
	t1=$(field "$one" seconds)
	t2=$(field "$two" seconds)
	if [ "$(field "$one" complete)" = true ]; then
		done="yes"
		reach="diameter $(field "$one" diameter)"
	else
		done="no"
		reach="depth $(field "$one" depth)"
	fi
	row="| $m | $s1 | $(field "$one" transitions) | $done | $reach | $t1 | $(awk "BEGIN { printf \"%.0f\", $s1 / $t1 }") | $(awk "BEGIN { printf \"%.0f\", $s1 / $cpu1 }") | $t2 | $(awk "BEGIN { printf \"%.0f\", $s2 / $t2 }") | $(awk "BEGIN { printf \"%.0f\", $(field "$one" bytes) / $s1 }") |"
	if [ -n "$BASELINE" ]; then
		run_cpu "$BASELINE" check -q -j 1 --max-states "$STATES" "$m"
		bs=$(field "$out" states)
		if [ "$bs" != "$s1" ] ||
		   [ "$(field "$out" transitions)" != "$(field "$one" transitions)" ]; then
			echo "bench-check: $m: the baseline reaches another state space" >&2
			exit 1
		fi
		row="$row $(awk "BEGIN { printf \"%.0f\", $bs / $took }") |"
	fi
	echo "$row"
done

echo
echo "## Time to find each mutant (seconds, actions in the counterexample; - : none within $MSTATES states)"
echo
printf '| mutant | -j |'
for m in $MACHINES; do printf ' %s |' "$m"; done
echo
printf '|---|---|'
for m in $MACHINES; do printf -- '---|'; done
echo
for f in $MUTANTS; do
	extra=
	[ "$f" = no-probe-cleanup ] && extra=--probe-faults
	for j in 1 2; do
		printf '| %s | %s |' "$f" "$j"
		for m in $MACHINES; do
			out=$(run_json "$DMAOWN" check -q -j "$j" $extra --max-states "$MSTATES" --fault "$f" "$m")
			if [ "$(field "$out" violations)" = 1 ]; then
				printf ' %s (%s) |' "$(field "$out" seconds)" "$(field "$out" actions)"
			else
				printf ' - |'
			fi
			# the suite's own catches must show here too
			case "$f:$m" in
			v7-order:qdf2400 | claim-ignores-count:vfio-host | \
			release-keeps-domain:vfio-host | use-ignores-owner:vfio-host | \
			no-probe-cleanup:vfio-host)
				if [ "$(field "$out" violations)" != 1 ]; then
					echo >&2
					echo "bench-check: mutant $f not caught on $m" >&2
					exit 1
				fi
				;;
			esac
		done
		echo
	done
done
out=$(run_json "$DMAOWN" check -q --interleave --fault lock-dropped vfio-host)
if [ "$(field "$out" violations)" != 1 ]; then
	echo "bench-check: lock-dropped not caught with --interleave" >&2
	exit 1
fi
echo
echo "lock-dropped (--interleave, one thread) on vfio-host: $(field "$out" seconds) s"

echo
echo "## Partial-order reduction (-j 1, within $STATES states)"
echo
echo "| machine | without --por | with --por | states expanded in part | actions not run |"
echo "|---|---|---|---|---|"
verdict() {
	if [ "$(field "$1" complete)" = true ]; then
		echo "complete, $(field "$1" states) states, $(field "$1" transitions) transitions"
	else
		echo "not complete, $(field "$1" states) states"
	fi
}
for m in $MACHINES; do
	full=$(run_json "$DMAOWN" check -q -j 1 --max-states "$STATES" "$m")
	por=$(run_json "$DMAOWN" check -q --por --max-states "$STATES" "$m")
	echo "| $m | $(verdict "$full") | $(verdict "$por") | $(field "$por" por_reduced) | $(field "$por" por_skipped) |"
done
