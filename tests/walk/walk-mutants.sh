#!/bin/sh
# The walker must find every planted fault and shrink it to a short script
# that replays, with the same output for the same seed. TAP output.
#
# usage: walk-mutants.sh DMAOWN-WALK DMAOWN
set -u

walk=$1
dmaown=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# machine, fault, the most lines the shrunk script may have, walker
# options. v7-order is broken from boot on IORT and devicetree machines (as
# `dmaown check` finds it): 0 lines. use-ignores-owner needs 7 on
# x86-desktop, where vfio-pci is not loaded at boot.
set -- \
	"vfio-host claim-ignores-count 6" \
	"vfio-host release-keeps-domain 6" \
	"vfio-host use-ignores-owner 6" \
	"vfio-host no-probe-cleanup 6 --probe-faults" \
	"x86-desktop claim-ignores-count 6" \
	"x86-desktop use-ignores-owner 7" \
	"qdf2400 v7-order 0" \
	"arm64-soc v7-order 0"

echo "1..$(($# * 2))"
n=0
fails=0
for row in "$@"; do
	# shellcheck disable=SC2086
	set -- $row
	machine=$1
	fault=$2
	max_lines=$3
	shift 3
	what="$fault on $machine"
	out=$tmp/out

	n=$((n + 1))
	"$walk" --seed 7 --steps 200000 --machine "$machine" --fault "$fault" \
		"$@" >"$out" 2>&1
	rc=$?
	lines=$(sed -n 's/^shrunk from [0-9]* to \([0-9]*\) line.*/\1/p' "$out")
	if [ "$rc" -ne 1 ] || [ -z "$lines" ] || [ "$lines" -gt "$max_lines" ]
	then
		echo "not ok $n - $what: found and shrunk to at most $max_lines lines"
		echo "# exit $rc, shrunk to '${lines:-?}' lines"
		sed 's/^/# /' "$out"
		fails=$((fails + 1))
	else
		echo "ok $n - $what: found and shrunk to $lines lines"
	fi

	# the same seed gives the same output (but for the time line); the
	# script printed runs in dmaown run and replays to the same invariant
	n=$((n + 1))
	"$walk" --seed 7 --steps 200000 --machine "$machine" --fault "$fault" \
		"$@" >"$out.2" 2>&1
	sed '/^time:/d' "$out" >"$out.a"
	sed '/^time:/d' "$out.2" >"$out.b"
	sed -n '/^# counterexample/,/^total /p' "$out" | sed '$d' >"$tmp/cx.sh"
	runflags=""
	[ "$fault" = v7-order ] && runflags="--fault v7-order"
	# the script's own header makes 'dmaown run' check and plant the fault
	"$dmaown" run "$tmp/cx.sh" >"$tmp/run" 2>&1
	runrc=$?
	inv=$(sed -n 's/^[^ ]*: \(I[0-9] [a-zA-Z ]*\) violated at step.*/\1/p' "$out")
	# shellcheck disable=SC2086
	"$walk" --replay "$tmp/cx.sh" $runflags >"$tmp/replay" 2>&1
	replayrc=$?
	if ! cmp -s "$out.a" "$out.b"; then
		echo "not ok $n - $what: deterministic output"
		diff "$out.a" "$out.b" | sed 's/^/# /'
		fails=$((fails + 1))
	elif ! [ -s "$tmp/cx.sh" ]; then
		echo "not ok $n - $what: no script printed"
		fails=$((fails + 1))
	# dmaown run checks I6 after every line, the walker every 64 steps:
	# run may see the teardown break before the walker's invariant does
	elif [ "$runrc" -ne 1 ] || ! grep -q "I[1-6] [a-z ]* violated" "$tmp/run"; then
		echo "not ok $n - $what: dmaown run reproduces a violation (exit $runrc)"
		sed 's/^/# /' "$tmp/cx.sh" "$tmp/run"
		fails=$((fails + 1))
	elif [ "$replayrc" -ne 1 ] || ! grep -q ": $inv violated" "$tmp/replay"
	then
		echo "not ok $n - $what: the script replays to $inv"
		sed 's/^/# /' "$tmp/cx.sh" "$tmp/replay"
		fails=$((fails + 1))
	else
		echo "ok $n - $what: deterministic, replays to $inv (dmaown run: $(sed -n 's/.*: \(I[1-6]\) .* violated.*/\1/p' "$tmp/run" | head -n 1))"
	fi
done
[ "$fails" -eq 0 ]
