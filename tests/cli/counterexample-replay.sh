#!/bin/sh
# Every counterexample 'dmaown check' saves is a complete script: 'dmaown
# run FILE', with nothing else on its command line, reproduces the same
# violation (exit 1 and the invariant named on stderr). For the
# interleaving mutant the saved '@concurrent' schedule is what reproduces
# it: the same lines under the default schedule are clean. --save writes one
# file per machine. TAP output.
#
# usage: counterexample-replay.sh DMAOWN
set -u

case $1 in
/*) dmaown=$1 ;;
*) dmaown=$(pwd)/$1 ;;
esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cx-replay.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

# machine, fault, the invariant the checker reports, check options
set -- \
	"qdf2400 v7-order I2" \
	"vfio-host claim-ignores-count I1" \
	"vfio-host release-keeps-domain I6" \
	"vfio-host use-ignores-owner I1" \
	"vfio-host no-probe-cleanup I2 --probe-faults" \
	"vfio-host lock-dropped I1 --interleave"

echo "1..$(($# + 3))"
n=0
fails=0
not_ok() {
	echo "not ok $n - $1"
	shift
	for f in "$@"; do
		[ -f "$f" ] && sed 's/^/# /' "$f"
	done
	fails=$((fails + 1))
}

for row in "$@"; do
	# shellcheck disable=SC2086
	set -- $row
	machine=$1 fault=$2 inv=$3
	shift 3
	n=$((n + 1))
	cx=$tmp/$fault.sh
	"$dmaown" check -q --fault "$fault" "$@" -o "$cx" "$machine" \
		>"$tmp/check.out" 2>"$tmp/check.err"
	rc=$?
	if [ "$rc" -ne 1 ] || ! grep -q "^$machine: $inv " "$tmp/check.out" ||
		! grep -q "^counterexample written to $cx;" "$tmp/check.out"; then
		not_ok "$fault on $machine: check finds $inv and saves it (exit $rc)" \
			"$tmp/check.out" "$tmp/check.err"
		continue
	fi
	(cd "$tmp" && "$dmaown" run "$cx" >"$tmp/run.out" 2>"$tmp/run.err")
	rc=$?
	if [ "$rc" -ne 1 ] || ! grep -q ": $inv [a-z ]* violated" "$tmp/run.err"; then
		not_ok "$fault on $machine: 'dmaown run' replays $inv (exit $rc)" \
			"$cx" "$tmp/run.out" "$tmp/run.err"
		continue
	fi
	echo "ok $n - $fault on $machine: $inv found, saved and replayed"
done

# The schedule is what matters: the lock-dropped lines under the default
# schedule (no preemption) show no violation.
n=$((n + 1))
cx=$tmp/lock-dropped.sh
if [ -f "$cx" ] && grep -q '^@concurrent 2 schedule [12]*$' "$cx"; then
	sed 's/^@concurrent 2 schedule .*/@concurrent 2/' "$cx" >"$tmp/default.sh"
	"$dmaown" run "$tmp/default.sh" >"$tmp/run.out" 2>"$tmp/run.err"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		echo "ok $n - lock-dropped: the default schedule is clean, the saved one is not"
	else
		not_ok "lock-dropped: the default schedule is clean (exit $rc)" \
			"$tmp/default.sh" "$tmp/run.err"
	fi
else
	not_ok "lock-dropped: the counterexample holds an '@concurrent 2 schedule S' block" "$cx"
fi

# --save DIR: one file per machine that has a violation, named after it.
n=$((n + 1))
mkdir "$tmp/save"
"$dmaown" check -q -d 1 --fault v7-order --save "$tmp/save" qdf2400 arm64-soc \
	x86-server >"$tmp/check.out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && [ -f "$tmp/save/qdf2400.sh" ] &&
	[ -f "$tmp/save/arm64-soc.sh" ] && [ ! -e "$tmp/save/x86-server.sh" ]; then
	echo "ok $n - --save writes MACHINE.sh for each machine with a violation"
else
	not_ok "--save writes MACHINE.sh for each machine with a violation (exit $rc)" \
		"$tmp/check.out"
fi

# A machine file given by a relative path is written absolute, so the
# counterexample replays from anywhere.
n=$((n + 1))
mkdir "$tmp/m" "$tmp/elsewhere"
src=$(dirname "$0")/../../machines/qdf2400.machine
cp "$src" "$tmp/m/board.machine"
(cd "$tmp" && "$dmaown" check -q --fault v7-order -o elsewhere/cx.sh \
	m/board.machine >/dev/null 2>&1)
if (cd / && "$dmaown" run "$tmp/elsewhere/cx.sh" >/dev/null 2>"$tmp/run.err"); then
	not_ok "a relative machine file replays from another directory" "$tmp/run.err"
elif grep -q "I2 accounting violated" "$tmp/run.err"; then
	echo "ok $n - a relative machine file replays from another directory"
else
	not_ok "a relative machine file replays from another directory" \
		"$tmp/elsewhere/cx.sh" "$tmp/run.err"
fi

[ "$fails" -eq 0 ]
