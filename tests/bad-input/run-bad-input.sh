#!/bin/sh
# run-bad-input.sh DMAOWN [CASES_DIR]
#
# The bad-input catalogue (tests/bad-input/README.md): every case directory
# holds the inputs, 'cmd' (a '#' description line, then the dmaown
# arguments, split as the shell splits them), 'expect-stderr' (exact),
# 'expect-status' and optionally 'expect-stdout'. A case whose input is too
# big to keep has a 'gen' script that writes it first. Each case runs in a
# scratch copy of its directory, so messages name the files as 'cmd' does.
# Output: TAP.
set -u

if [ $# -lt 1 ]; then
	echo "usage: $0 DMAOWN [CASES_DIR]" >&2
	exit 2
fi
case $1 in
/*) dmaown=$1 ;;
*) dmaown=$(pwd)/$1 ;;
esac
cases=${2:-$(dirname "$0")/cases}
case $cases in
/*) ;;
*) cases=$(pwd)/$cases ;;
esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bad-input.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

total=0
for dir in "$cases"/*/; do
	total=$((total + 1))
done
echo "1..$total"

n=0
failed=0
for dir in "$cases"/*/; do
	n=$((n + 1))
	name=$(basename "$dir")
	work=$tmp/$name
	mkdir "$work"
	cp -R "$dir". "$work"/
	why=""
	(
		cd "$work" || exit 125
		if [ -f gen ]; then
			# gen may use helpers beside the cases, and dmaown
			# itself (tests/import)
			CASES_DIR=$cases DMAOWN=$dmaown sh ./gen || exit 125
		fi
		args=$(grep -v '^#' cmd)
		eval "set -- $args"
		"$dmaown" "$@" >actual-stdout 2>actual-stderr
		echo $? >actual-status
	) || why="could not set the case up"
	if [ -z "$why" ]; then
		if ! cmp -s "$work/expect-status" "$work/actual-status"; then
			why="exit status $(cat "$work/actual-status"), expected $(cat "$work/expect-status")"
		elif ! cmp -s "$work/expect-stderr" "$work/actual-stderr"; then
			why="stderr differs"
		elif [ -f "$work/expect-stdout" ] &&
		     ! cmp -s "$work/expect-stdout" "$work/actual-stdout"; then
			why="stdout differs"
		fi
	fi
	if [ -z "$why" ]; then
		echo "ok $n - $name"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name: $why"
		for f in stderr stdout; do
			[ -f "$work/expect-$f" ] || continue
			diff -u "$work/expect-$f" "$work/actual-$f" | sed 's/^/# /'
		done
	fi
	rm -rf "$work"
done
[ "$failed" -eq 0 ]
