#!/bin/sh
# run-valgrind.sh DMAOWN EXAMPLES_DIR - valgrind memcheck over the CLI as a
# TAP test: no leaks (definite or indirect), no memory errors.
#
# Runs under valgrind:
#   DMAOWN run --dmesg [ARGS] NAME.sh   for every EXAMPLES_DIR/*.sh (from
#                                       inside EXAMPLES_DIR; ARGS from a
#                                       "# dmaown-run-args: ARGS" line)
#   DMAOWN show M, DMAOWN explain M     for every built-in machine
#   DMAOWN explain --json x86-server
#   DMAOWN import --lspci ...           on two fixtures of tests/import
#   DMAOWN check --depth 2 vfio-host
#   DMAOWN check --shard I/2 --save-states, then --merge (a mutant)
#
# dmaown's own exit status is not judged here (a WARN exits 1, and the
# scenario suite compares it); valgrind reports through exit status 99 and
# its log, whose errors are shown as TAP comments. Without valgrind every
# test is skipped.

if [ $# -ne 2 ]; then
	echo "usage: $0 DMAOWN EXAMPLES_DIR" >&2
	exit 2
fi
DMAOWN=$1
EXAMPLES=$2
case $DMAOWN in
/*) ;;
*) DMAOWN=$(pwd)/$DMAOWN ;;
esac
if [ ! -x "$DMAOWN" ]; then
	echo "Bail out! $DMAOWN is not an executable"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-valgrind.XXXXXX") || {
	echo "Bail out! mktemp failed"
	exit 1
}
trap 'rm -rf "$tmp"' 0
trap 'exit 1' HUP INT TERM

# the list of runs, one a line: DIR<tab>ARGS
: >"$tmp/runs"
for f in "$EXAMPLES"/*.sh; do
	[ -f "$f" ] || continue
	name=$(basename "$f")
	args=$(sed -n -e '/^#/!q' -e 's/^# dmaown-run-args://p' "$f" | sed -n 1p)
	printf '%s\trun --dmesg%s %s\n' "$EXAMPLES" "$args" "$name" >>"$tmp/runs"
done
"$DMAOWN" machines >"$tmp/machines" 2>&1 || {
	echo "Bail out! $DMAOWN machines failed"
	exit 1
}
while read -r m _; do
	printf '.\tshow %s\n' "$m" >>"$tmp/runs"
	printf '.\texplain %s\n' "$m" >>"$tmp/runs"
done <"$tmp/machines"
printf '.\texplain --json x86-server\n' >>"$tmp/runs"
# dmaown import on the fixtures beside the examples (tests/import/cases)
cases=$(dirname "$EXAMPLES")/tests/import/cases
if [ -d "$cases" ]; then
	printf '%s\timport --lspci input.lspci -o /dev/null\n' \
		"$cases/cometlake-denied" >>"$tmp/runs"
	printf '%s\timport --lspci input.lspci --cmdline cmdline -o /dev/null\n' \
		"$cases/cmdline-acs-override" >>"$tmp/runs"
fi
printf '.\tcheck -q --depth 2 vfio-host\n' >>"$tmp/runs"
# two shards saved (a mutant, so a counterexample is saved too), merged
for i in 0 1; do
	printf '%s\tcheck -q -j 1 --depth 2 --fault claim-ignores-count --shard %s/2 --save-states s%s.states vfio-host\n' \
		"$tmp" "$i" "$i" >>"$tmp/runs"
done
printf '%s\tcheck --merge s0.states s1.states\n' "$tmp" >>"$tmp/runs"

total=$(wc -l <"$tmp/runs")
echo "1..$total"
if ! command -v valgrind >/dev/null 2>&1; then
	i=0
	while [ "$i" -lt "$total" ]; do
		i=$((i + 1))
		echo "ok $i # SKIP valgrind is not installed"
	done
	exit 0
fi

num=0
failed=0
tab=$(printf '\t')
while IFS=$tab read -r dir args; do
	num=$((num + 1))
	log=$tmp/vg.$num
	# shellcheck disable=SC2086
	(cd "$dir" && valgrind -q --leak-check=full \
		--show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect \
		--error-exitcode=99 --log-file="$log" \
		"$DMAOWN" $args) >/dev/null 2>&1 </dev/null
	rc=$?
	if [ "$rc" -eq 99 ] || [ -s "$log" ]; then
		echo "not ok $num - dmaown $args: valgrind reports (exit $rc)"
		sed 's/^/# /' "$log"
		failed=$((failed + 1))
	elif [ "$rc" -gt 3 ]; then
		echo "not ok $num - dmaown $args: exit $rc"
		failed=$((failed + 1))
	else
		echo "ok $num - dmaown $args"
	fi
done <"$tmp/runs"
[ "$failed" -eq 0 ]
