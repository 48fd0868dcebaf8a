#!/bin/sh
# The shards of one search, merged, are one run (docs/states-file.md): four
# 'dmaown check --shard I/4 --save-states' runs in a shell loop, then
# 'dmaown check --merge' prints the states, depth, diameter, complete and
# verdict of one unsharded run, in text and --json, on two machines, to the
# fixpoint and to a bound; a mutant's merged counterexample is the
# unsharded run's, line for line. Files may overlap (a shard twice, another
# cut, the unsharded run's own file); another machine, other options, a
# missing shard, a cut or corrupt file are refused with the file's name
# and exit status 2 (the exact messages: tests/bad-input). TAP output.
#
# usage: check-merge.sh DMAOWN
set -u

case $1 in
/*) dmaown=$1 ;;
*) dmaown=$(pwd)/$1 ;;
esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-merge.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "1..10"
# shellcheck source=tests/cli/tap.sh
. "$(dirname "$0")/tap.sh"
cd "$tmp" || exit 2

# shards DIR N [CHECK OPTION...] MACHINE: N shards into DIR/sI.states
shards() {
	dir=$1
	count=$2
	shift 2
	mkdir -p "$dir"
	i=0
	while [ $i -lt "$count" ]; do
		"$dmaown" check -q -j 1 --shard "$i/$count" \
			--save-states "$dir/s$i.states" "$@" >/dev/null 2>&1
		i=$((i + 1))
	done
}
# the table's machine, states, depth and verdict, and the line under it
figures() {
	sed -n 's/^\([^ ]*\) *\([0-9]*\) *[0-9]* *\([0-9]*\) .*  \([01].*\)$/\1 \2 \3 \4/p' "$1"
	grep '^complete\|^not complete' "$1"
}
# the JSON but for the figures that measure work
json_fig() {
	sed 's/"transitions":[0-9]*,//; s/"seconds":[0-9.]*,//; s/"bytes":[0-9]*,//' "$1"
}
# same NAME SINGLE MERGED: the figures agree
same() {
	figures "$2" >single.fig
	figures "$3" >merged.fig
	if [ -s single.fig ] && cmp -s single.fig merged.fig; then
		ok "$1 ($(head -n 1 merged.fig))"
	else
		{ echo "single:"; cat single.fig "$2"; echo "merged:"; cat merged.fig "$3"; } >out
		not_ok "$1"
	fi
}

# qdf2400 to its fixpoint; the unsharded run saves its own file too
"$dmaown" check -q -j 1 --depth max --save-states all.states qdf2400 \
	>q-single.txt 2>&1
shards q 4 --depth max qdf2400
"$dmaown" check --merge q/s0.states q/s1.states q/s2.states q/s3.states \
	>merged.txt 2>&1
same "qdf2400 to its fixpoint: 4 shards merge to one run" q-single.txt \
	merged.txt

# --json: the figures of the table, and complete
"$dmaown" check --merge --json q/s*.states >out 2>&1
sed -n 's/^\([^ ]*\) *\([0-9]*\) *[0-9]* *\([0-9]*\) .*complete, diameter \([0-9]*\)$/"machine":"\1","states":\2,"transitions":T,"depth":\3,"complete":true,"diameter":\4,/p' \
	q-single.txt >want
if [ -s want ] &&
   sed 's/"transitions":[0-9]*,/"transitions":T,/' out | grep -qF "$(cat want)"; then
	ok "--json: the same states, depth, complete and diameter"
else
	cat want >>out
	not_ok "--json: the same states, depth, complete and diameter"
fi

# another machine, to a bound: not complete, the same states and depth
"$dmaown" check -q -j 1 --depth 3 vfio-host >v-single.txt 2>&1
shards v 3 --depth 3 vfio-host
"$dmaown" check --merge v/s*.states >merged.txt 2>&1
same "vfio-host to depth 3, 3 shards" v-single.txt merged.txt

# a bound one past the diameter proves the fixpoint as --depth max does
shards b13 2 --depth 13 qdf2400
"$dmaown" check --merge b13/s*.states >merged.txt 2>&1
same "qdf2400 --depth 13, one past its diameter: complete" q-single.txt \
	merged.txt

# overlap: a shard twice, a cut into 2 beside the cut into 3, the
# unsharded run itself: still the one set, each state at its least depth
shards w 2 --depth 3 vfio-host
"$dmaown" check --merge v/s0.states v/s1.states v/s1.states w/s0.states \
	v/s2.states w/s1.states >merged.txt 2>&1
same "overlapping files: a shard twice and two cuts" v-single.txt merged.txt
"$dmaown" check --merge q/s1.states all.states >merged.txt 2>&1
same "the unsharded run's file covers the whole set" q-single.txt merged.txt

# a mutant: the shortest counterexample of the shards is the run's
"$dmaown" check -q -j 1 --fault release-keeps-domain -o single.sh \
	vfio-host >single.txt 2>&1
shards m 4 --fault release-keeps-domain vfio-host
"$dmaown" check --merge -o merged.sh m/s*.states >out 2>&1
status=$?
if [ $status -eq 1 ] && grep -q '# the teardown (I6)' single.sh &&
   cmp -s single.sh merged.sh; then
	ok "release-keeps-domain: exit 1 and the run's counterexample, line for line"
else
	{ echo "status $status"; diff single.sh merged.sh; } >>out
	not_ok "release-keeps-domain: exit 1 and the run's counterexample, line for line"
fi

# refusals: each names the file, exits 2 and prints no table
refused() {
	name=$1
	want=$2
	shift 2
	"$dmaown" check --merge "$@" >out 2>&1
	status=$?
	if [ $status -eq 2 ] && grep -q "^dmaown check: $want" out &&
	   ! grep -q '^machine ' out; then
		ok "$name"
	else
		echo "status $status" >>out
		not_ok "$name"
	fi
}
refused "a shard of another machine" \
	"v/s1.states: another machine (vfio-host) than q/s0.states (qdf2400)" \
	q/s0.states v/s1.states q/s2.states q/s3.states
refused "a missing shard" "q/s0.states: shard 0/4, and no file is shard 2/4" \
	q/s0.states q/s1.states q/s3.states
head -c -200 q/s2.states >cut.states
cp q/s3.states corrupt.states
size=$(wc -c <corrupt.states)
printf 'Z' | dd of=corrupt.states bs=1 seek=$((size - 60)) conv=notrunc \
	2>/dev/null
# a count the file does not hold: "cut short", where an allocation of
# its size (terabytes) would fail first ("out of memory"). No ulimit -v:
# the sanitizer builds reserve more address space than that at start.
sed 's/^states [0-9]*$/states 999999999999/' q/s2.states >huge.states
"$dmaown" check --merge q/s0.states q/s1.states huge.states q/s3.states \
	>out 2>&1
s0=$?
"$dmaown" check --merge q/s0.states q/s1.states cut.states q/s3.states \
	>>out 2>&1
s1=$?
"$dmaown" check --merge q/s0.states q/s1.states q/s2.states corrupt.states \
	>>out 2>&1
s2=$?
if [ $s0 -eq 2 ] && [ $s1 -eq 2 ] && [ $s2 -eq 2 ] &&
   grep -q '^dmaown check: huge.states: cut short: ' out &&
   grep -q '^dmaown check: cut.states: cut short: ' out &&
   grep -q '^dmaown check: corrupt.states: the states do not match their checksum' out; then
	ok "a file cut short, one with a count it does not hold, a corrupt file"
else
	not_ok "a file cut short, one with a count it does not hold, a corrupt file"
fi
[ "$fails" -eq 0 ]
