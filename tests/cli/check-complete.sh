#!/bin/sh
# 'dmaown check --depth max' proves a machine for every order of any
# length: the table says "complete, diameter N", the line under it names
# the machines proved, --json gives "complete":true and "diameter"; a bound
# below the diameter, a state limit or a memory limit is not a proof, and
# the line names the depth reached. With --por the table and JSON say how
# much the reduction left out, and a complete run says it is complete under
# the reduction, not that every state was checked. --no-commute runs every
# transition: the same figures, none known without running it. TAP output.
#
# usage: check-complete.sh DMAOWN
set -u

dmaown=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-complete.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "1..8"
# shellcheck source=tests/cli/tap.sh
. "$(dirname "$0")/tap.sh"

"$dmaown" check -q --depth max qdf2400 no-iommu >"$tmp/out" 2>&1
if [ $? -eq 0 ] &&
   grep -q '^qdf2400 .*  0  complete, diameter 12$' "$tmp/out" &&
   grep -q '^no-iommu .*  0  complete, diameter 10$' "$tmp/out" &&
   grep -qx 'complete (every reachable state checked): qdf2400, no-iommu' "$tmp/out"; then
	ok "--depth max: both complete, with their diameters"
else
	not_ok "--depth max: both complete, with their diameters"
fi

"$dmaown" check -q --depth max --json qdf2400 >"$tmp/out" 2>&1
if grep -q '"states":208,.*"complete":true,"diameter":12,' "$tmp/out"; then
	ok "--json: complete and diameter"
else
	not_ok "--json: complete and diameter"
fi

"$dmaown" check -q --depth 5 qdf2400 >"$tmp/out" 2>&1
if [ $? -eq 0 ] &&
   grep -qx 'complete (every reachable state checked): none' "$tmp/out" &&
   grep -qx 'not complete (every order up to the depth): qdf2400 (depth 5)' "$tmp/out"; then
	ok "a bound below the diameter proves no fixpoint"
else
	not_ok "a bound below the diameter proves no fixpoint"
fi

"$dmaown" check -q --max-states 300 vfio-host >"$tmp/out" 2>&1
if grep -q '^vfio-host  *300 .*(max-states reached)$' "$tmp/out" &&
   grep -q '^not complete (every order up to the depth): vfio-host (depth [0-9]*)$' "$tmp/out"; then
	ok "the default run stops at the state limit and says the depth"
else
	not_ok "the default run stops at the state limit and says the depth"
fi

"$dmaown" check -q --json --max-memory 64K vfio-host >"$tmp/out" 2>&1
bytes=$(sed -n 's/.*"bytes":\([0-9]*\),.*/\1/p' "$tmp/out")
if grep -q '"complete":false,.*"truncated":true' "$tmp/out" &&
   [ -n "$bytes" ] && [ "$bytes" -le 65536 ]; then
	ok "--max-memory 64K: stopped within it ($bytes bytes)"
else
	not_ok "--max-memory 64K: stopped within it"
fi
# --por: the same verdict, complete under the reduction, the reduction told
"$dmaown" check -q --por qdf2400 >"$tmp/out" 2>&1
if [ $? -eq 0 ] &&
   grep -q '^qdf2400 .*  0  complete (por), depth [0-9]*$' "$tmp/out" &&
   grep -q '^por: qdf2400: [1-9][0-9]* states expanded in part, [1-9][0-9]* actions not run from them$' "$tmp/out" &&
   grep -qx 'complete under partial-order reduction (every violation reachable would be found): qdf2400' "$tmp/out"; then
	ok "--por: complete under the reduction, and what it left out"
else
	not_ok "--por: complete under the reduction, and what it left out"
fi

"$dmaown" check -q --por --json qdf2400 >"$tmp/out" 2>&1
status=$?
"$dmaown" check -q --por -j 2 qdf2400 >"$tmp/err" 2>&1
refused=$?
if [ "$status" -eq 0 ] && [ "$refused" -eq 2 ] &&
   grep -q '"complete":true,.*"por":true,"por_reduced":[1-9][0-9]*,"por_skipped":[1-9][0-9]*' "$tmp/out" &&
   grep -q 'runs on one thread' "$tmp/err"; then
	ok "--por --json: the por keys; -j 2 refused"
else
	not_ok "--por --json: the por keys; -j 2 refused"
fi
# --no-commute: the same states and transitions, every one of them run
"$dmaown" check -q -j 1 --json qdf2400 >"$tmp/out" 2>&1
"$dmaown" check -q -j 1 --json --no-commute qdf2400 >"$tmp/all" 2>&1
same() {
	sed 's/"seconds":[0-9.]*,//; s/"bytes":[0-9]*,//; s/,"commuted".*//' "$1"
}
if grep -q '"commuted":[1-9][0-9]*,"equivalent":[1-9][0-9]*,"i6_known":[1-9][0-9]*}' "$tmp/out" &&
   grep -q '"commuted":0,"equivalent":0,"i6_known":0}' "$tmp/all" &&
   [ "$(same "$tmp/out")" = "$(same "$tmp/all")" ]; then
	ok "--no-commute: the same figures, every transition run"
else
	not_ok "--no-commute: the same figures, every transition run"
fi
[ "$fails" -eq 0 ]
