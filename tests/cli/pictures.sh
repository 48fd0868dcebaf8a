#!/bin/sh
# The pictures (docs/pictures.md). 'dmaown show --dot': the DOT text of two
# built-in machines and of a 205-device server (scripts/gen-server.py: its
# switches boxed, its wide buses in grids, its roots in bands) is byte for
# byte the reviewed golden file (-n: ids, no pci.ids names, so the host's
# pci.ids version does not matter); a user-owned group names its owner.
# 'dmaown explain --dot': the GPU's group with the port lacking ACS and what
# must move, golden; the multifunction and alias rules marked. 'dmaown run
# --dot': the message sequence charts of a saved counterexample and of an
# example script, golden; 'check -o FILE --svg' and 'run --svg' write theirs
# beside the script. 'check --json' gives the states per depth. Every SVG,
# of every built-in machine and of each kind, parses as XML; without dot in
# PATH --svg fails with a clear message and --dot still works. The SVG tests
# are skipped when Graphviz's dot is absent, except under CI=true. TAP
# output.
#
# usage: pictures.sh DMAOWN GOLDEN_DIR
set -u

case $1 in
/*) dmaown=$1 ;;
*) dmaown=$(pwd)/$1 ;;
esac
golden=$(cd "$2" && pwd)
top=$golden/../..
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pictures.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "1..20"
# shellcheck source=tests/cli/tap.sh
. "$(dirname "$0")/tap.sh"

for m in x86-desktop arm64-soc; do
	if "$dmaown" show --dot -n "$m" >"$tmp/$m.dot" 2>"$tmp/out" &&
	   cmp "$golden/$m.dot" "$tmp/$m.dot" >"$tmp/out" 2>&1; then
		ok "$m: --dot -n is the golden file"
	else
		diff -u "$golden/$m.dot" "$tmp/$m.dot" >>"$tmp/out" 2>&1
		not_ok "$m: --dot -n is the golden file"
	fi
done

# golden NAME CMD...: CMD's standard output is $golden/NAME byte for byte
golden() {
	name=$1
	shift
	if "$@" >"$tmp/$name" 2>"$tmp/out" &&
	   cmp "$golden/$name" "$tmp/$name" >"$tmp/out" 2>&1; then
		ok "$name is the golden file"
	else
		diff -u "$golden/$name" "$tmp/$name" >>"$tmp/out" 2>&1
		not_ok "$name is the golden file"
	fi
}

# a machine of no devices: a legend and nothing else, no empty-array
# memcpy() for UBSan to find
printf 'format 1\nmachine empty\narch x86_64\nfirmware x86\n' >"$tmp/empty.machine"
if "$dmaown" show --dot -n "$tmp/empty.machine" >"$tmp/empty.dot" 2>"$tmp/out" &&
   grep -q 'label="empty: firmware x86' "$tmp/empty.dot" &&
   ! grep -q 'cluster_group' "$tmp/empty.dot" && tail -1 "$tmp/empty.dot" | grep -q '^}$'; then
	ok "a machine of no devices draws"
else
	cat "$tmp/empty.dot" >>"$tmp/out"
	not_ok "a machine of no devices draws"
fi

python3 "$top/scripts/gen-server.py" >"$tmp/server-205.machine"
golden server-205.dot "$dmaown" show --dot -n "$tmp/server-205.machine"
# the layout's pieces are there: 4 switches boxed, 3 grids, 3 bands (5
# roots past the first band)
if [ "$(grep -c 'subgraph "cluster_switch:' "$tmp/server-205.dot")" -eq 4 ] &&
   [ "$(grep -c 'subgraph "cluster_fan:' "$tmp/server-205.dot")" -eq 3 ] &&
   [ "$(grep -c 'style=invis, minlen=' "$tmp/server-205.dot")" -eq 5 ] &&
   grep -q '55 devices below pci0000:ff' "$tmp/server-205.dot"; then
	ok "the 205-device server: switches boxed, wide buses in grids, roots in bands"
else
	grep -c 'cluster_switch\|cluster_fan\|minlen' "$tmp/server-205.dot" >"$tmp/out"
	not_ok "the 205-device server: switches boxed, wide buses in grids, roots in bands"
fi

golden explain-x86-desktop.dot "$dmaown" explain --dot -n x86-desktop 0000:01:00.0
"$dmaown" explain --dot -n amd-desktop 0000:00:14.3 >"$tmp/mf.dot" 2>"$tmp/out"
st=$?
"$dmaown" explain --dot -n vfio-doc 0000:06:0d.1 >"$tmp/alias.dot" 2>>"$tmp/out"
if [ $st -eq 0 ] && [ $? -eq 0 ] &&
   [ "$(grep -c 'MULTIFUNCTION: a slot.s functions without ACS SV RR CR UF.*color="#d00000"' "$tmp/mf.dot")" -eq 2 ] &&
   grep -q '"0000:00:1e.0" \[label=.*ALIAS: DMA below it reaches the IOMMU as 06:00.0.*color="#d00000"' "$tmp/alias.dot" &&
   grep -q 'viable for vfio: nothing to move' "$tmp/alias.dot"; then
	ok "explain --dot marks the multifunction rule and the alias"
else
	cat "$tmp/mf.dot" "$tmp/alias.dot" >>"$tmp/out"
	not_ok "explain --dot marks the multifunction rule and the alias"
fi

# The charts: a counterexample the checker saved (a copy, so that the
# checker's choices do not move the golden file) and an example script,
# drawn from their runs; named as given, so run where they are.
cp "$golden/counterexample.sh" "$tmp/counterexample.sh"
cp "$top/examples/03-gpu-passthrough.sh" "$tmp/gpu-passthrough.sh"
cd "$tmp" || exit 2
# the script's own output and status are a run's (1: the violation)
for name in counterexample gpu-passthrough; do
	"$dmaown" run --dot -o "msc-$name.dot" "$name.sh" >/dev/null 2>"$tmp/err"
	st=$?
	if [ $st -le 1 ] &&
	   cmp "$golden/msc-$name.dot" "msc-$name.dot" >"$tmp/out" 2>&1; then
		ok "msc-$name.dot is the golden file"
	else
		cat "$tmp/err" >>"$tmp/out"
		diff -u "$golden/msc-$name.dot" "msc-$name.dot" >>"$tmp/out" 2>&1
		not_ok "msc-$name.dot is the golden file"
	fi
done
cd - >/dev/null || exit 2

# An '@concurrent' block: its lines are drawn queued (dashed) until the
# last, which carries the block's result.
cat >"$tmp/conc.sh" <<'SCRIPT'
# machine: vfio-host
@concurrent 2
echo 0000:01:00.1 > /sys/bus/pci/drivers/snd_hda_intel/unbind
echo 0000:01:00.0 > /sys/bus/pci/drivers/vfio-pci/unbind
SCRIPT
"$dmaown" run --dot -o "$tmp/conc.dot" "$tmp/conc.sh" >"$tmp/out" 2>&1
st=$?
if [ $st -eq 0 ] &&
   [ "$(grep -c 'style=dashed, label="[23]: .*queued: runs when the @concurrent block is complete' "$tmp/conc.dot")" -eq 2 ] &&
   grep -q 'label="4: echo 0000:01:00.0 > /sys/bus/pci/drivers/vfio-pci/unbind\\l=> ok (the @concurrent block: 2 tasks)' "$tmp/conc.dot" &&
   grep -q '"IOMMU group 1"' "$tmp/conc.dot"; then
	ok "a chart draws an @concurrent block's lines queued, its last with the block's result"
else
	cat "$tmp/conc.dot" >>"$tmp/out"
	not_ok "a chart draws an @concurrent block's lines queued, its last with the block's result"
fi

# 'check --json': the states first reached at each depth add up
"$dmaown" check -q --json qdf2400 >"$tmp/check.json" 2>"$tmp/out"
if python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
l = r["level_states"]
assert l[0] == 1 and sum(l) == r["states"] and len(l) == r["depth"] + 1, l' \
	"$tmp/check.json" >>"$tmp/out" 2>&1; then
	ok "check --json: level_states, from boot's 1, add up to the states"
else
	cat "$tmp/check.json" >>"$tmp/out"
	not_ok "check --json: level_states, from boot's 1, add up to the states"
fi

# Bad usage: exit 2, a message, nothing drawn.
: >"$tmp/out"
for args in "run -o $tmp/x.svg $tmp/counterexample.sh" \
	    "run --svg -" \
	    "check --svg vfio-host" \
	    "explain --svg x86-desktop" \
	    "explain --json --dot x86-desktop 0000:01:00.0" \
	    "explain -o $tmp/x.svg x86-desktop 0000:01:00.0"; do
	# shellcheck disable=SC2086
	"$dmaown" $args </dev/null >/dev/null 2>"$tmp/err"
	st=$?
	if [ $st -ne 2 ] || [ ! -s "$tmp/err" ] || [ -e "$tmp/x.svg" ]; then
		echo "dmaown $args: status $st" >>"$tmp/out"
		cat "$tmp/err" >>"$tmp/out"
	fi
done
if [ ! -s "$tmp/out" ]; then
	ok "pictures asked for wrongly: status 2 and a message"
else
	not_ok "pictures asked for wrongly: status 2 and a message"
fi

# -o FILE writes the same bytes; @show --dot in a script is the same graph.
"$dmaown" show --dot -n -o "$tmp/o.dot" x86-desktop >"$tmp/out" 2>&1
st=$?
printf '@show --dot\n' >"$tmp/show.sh"
"$dmaown" run -m x86-desktop "$tmp/show.sh" >"$tmp/run.dot" 2>>"$tmp/out"
if [ $st -eq 0 ] && [ ! -s "$tmp/out" ] &&
   cmp "$golden/x86-desktop.dot" "$tmp/o.dot" >>"$tmp/out" 2>&1 &&
   cmp "$golden/x86-desktop.dot" "$tmp/run.dot" >>"$tmp/out" 2>&1; then
	ok "-o FILE and @show --dot give the golden bytes"
else
	not_ok "-o FILE and @show --dot give the golden bytes"
fi

# A group given to userspace: grey while claimed with nothing attached
# (blocked), pink once type1 attached its domain; owner and process named.
cat >"$tmp/user.sh" <<'SCRIPT'
sudo modprobe vfio-pci
echo 0000:03:00.0 > /sys/bus/pci/drivers/e1000e/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:03:00.0/driver_override
echo 0000:03:00.0 > /sys/bus/pci/drivers_probe
@as qemu @vfio open 10
@as qemu @vfio container-open
@as qemu @vfio set-container 3 4
@show --dot
@as qemu @vfio set-iommu 4 type1v2
@show --dot
SCRIPT
"$dmaown" run -m x86-desktop "$tmp/user.sh" >"$tmp/user.out" 2>"$tmp/out"
st=$?
awk '/^digraph/ { k++ } k == 1' "$tmp/user.out" >"$tmp/blocked.dot"
awk '/^digraph/ { k++ } k == 2' "$tmp/user.out" >"$tmp/user.dot"
if [ $st -eq 0 ] &&
   grep -q 'label="group 10 (dmar0)\\nuserspace: vfio group 10, container fd 4, process qemu\\ndomain blocking"' "$tmp/blocked.dot" &&
   grep -A1 'label="group 10 ' "$tmp/blocked.dot" | grep -q 'fillcolor="#e2e2e2"' &&
   grep -q 'label="group 10 (dmar0)\\nuserspace: vfio group 10, container fd 4, process qemu\\ndomain unmanaged"' "$tmp/user.dot" &&
   grep -A1 'label="group 10 ' "$tmp/user.dot" | grep -q 'fillcolor="#fbdde6"' &&
   grep -q '"0000:03:00.0" \[label=.*driver vfio-pci", fillcolor="#ffd59e"' "$tmp/user.dot"; then
	ok "a claimed group: blocked, then userspace, its container and process named"
else
	cat "$tmp/user.out" >>"$tmp/out"
	not_ok "a claimed group: blocked, then userspace, its container and process named"
fi

# Without dot: --svg and --png fail clearly (status 2, nothing written),
# --dot works.
mkdir "$tmp/nopath"
PATH="$tmp/nopath" "$dmaown" show --svg x86-desktop >"$tmp/svg" 2>"$tmp/out"
st=$?
PATH="$tmp/nopath" "$dmaown" show --png -o "$tmp/x.png" x86-desktop >>"$tmp/svg" 2>>"$tmp/out"
st2=$?
if [ $st -eq 2 ] && [ $st2 -eq 2 ] && [ ! -s "$tmp/svg" ] && [ ! -e "$tmp/x.png" ] &&
   grep -q "^dmaown show: --svg needs Graphviz's 'dot', which is not in PATH" "$tmp/out" &&
   grep -q "^dmaown show: --png needs Graphviz's 'dot'" "$tmp/out" &&
   PATH="$tmp/nopath" "$dmaown" show --dot -n x86-desktop 2>>"$tmp/out" | cmp -s - "$golden/x86-desktop.dot"; then
	ok "without dot: --svg and --png fail clearly, --dot works"
else
	not_ok "without dot: --svg and --png fail clearly, --dot works"
fi

if ! command -v dot >/dev/null 2>&1; then
	why="Graphviz's dot is not installed (apt-get install graphviz)"
	if [ "${CI:-}" = true ]; then
		echo "# $why, and CI=true: failing"
		: >"$tmp/out"
		not_ok "every built-in machine's SVG parses as XML"
		not_ok "a blocked and a user-owned state's SVG parses as XML"
		not_ok "--png writes a PNG to -o FILE"
		not_ok "the 205-device server's and explain's SVG parse as XML"
		not_ok "check -o FILE --svg and run --svg write FILE.svg beside the script, as XML"
	else
		skip "every built-in machine's SVG parses as XML" "$why"
		skip "a blocked and a user-owned state's SVG parses as XML" "$why"
		skip "--png writes a PNG to -o FILE" "$why"
		skip "the 205-device server's and explain's SVG parse as XML" "$why"
		skip "check -o FILE --svg and run --svg write FILE.svg beside the script, as XML" "$why"
	fi
	exit $((fails > 0))
fi

# parse_xml FILE...: each parses as XML (python3's minidom)
parse_xml() {
	python3 -c 'import sys, xml.dom.minidom
for f in sys.argv[1:]:
    xml.dom.minidom.parse(f)' "$@"
}

: >"$tmp/out"
svgs=""
for m in $("$dmaown" machines | cut -d' ' -f1); do
	# with the host's pci.ids names: they are escaped too
	"$dmaown" show --svg -o "$tmp/$m.svg" "$m" >>"$tmp/out" 2>&1
	st=$?
	[ $st -le 1 ] || echo "$m: status $st" >>"$tmp/out"
	svgs="$svgs $tmp/$m.svg"
done
# shellcheck disable=SC2086
if [ ! -s "$tmp/out" ] && parse_xml $svgs >>"$tmp/out" 2>&1; then
	ok "every built-in machine's SVG parses as XML"
else
	not_ok "every built-in machine's SVG parses as XML"
fi

dot -Tsvg "$tmp/blocked.dot" >"$tmp/blocked.svg" 2>"$tmp/out" &&
dot -Tsvg "$tmp/user.dot" >"$tmp/user.svg" 2>>"$tmp/out"
if [ $? -eq 0 ] && parse_xml "$tmp/blocked.svg" "$tmp/user.svg" >>"$tmp/out" 2>&1; then
	ok "a blocked and a user-owned state's SVG parses as XML"
else
	not_ok "a blocked and a user-owned state's SVG parses as XML"
fi

"$dmaown" show --png -o "$tmp/x.png" x86-desktop >"$tmp/out" 2>&1
if [ $? -eq 0 ] && [ ! -s "$tmp/out" ] &&
   [ "$(head -c 8 "$tmp/x.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then
	ok "--png writes a PNG to -o FILE"
else
	not_ok "--png writes a PNG to -o FILE"
fi

"$dmaown" show --svg -o "$tmp/server.svg" "$tmp/server-205.machine" >"$tmp/out" 2>&1 &&
"$dmaown" explain --svg -o "$tmp/explain.svg" x86-desktop 0000:01:00.0 >>"$tmp/out" 2>&1
if [ $? -eq 0 ] && [ ! -s "$tmp/out" ] &&
   parse_xml "$tmp/server.svg" "$tmp/explain.svg" >>"$tmp/out" 2>&1; then
	ok "the 205-device server's and explain's SVG parse as XML"
else
	not_ok "the 205-device server's and explain's SVG parse as XML"
fi

# check writes the counterexample and its chart beside it; run --svg the
# chart of any script beside it, the script's own output as usual
mkdir "$tmp/cx"
(cd "$tmp/cx" && "$dmaown" check -q --svg --fault claim-ignores-count \
	-o found.sh vfio-host) >"$tmp/check.out" 2>"$tmp/out"
st=$?
(cd "$tmp" && "$dmaown" run --svg gpu-passthrough.sh) >"$tmp/run.out" 2>>"$tmp/out"
st2=$?
(cd "$tmp" && "$dmaown" run gpu-passthrough.sh) >"$tmp/plain.out" 2>>"$tmp/out"
if [ $st -eq 1 ] && [ $st2 -eq 0 ] && [ -s "$tmp/cx/found.sh" ] &&
   cmp -s "$tmp/run.out" "$tmp/plain.out" &&
   grep -q 'I1 isolation violated after line' "$tmp/cx/found.svg" &&
   grep -q '^its message sequence chart: found.svg$' "$tmp/check.out" &&
   parse_xml "$tmp/cx/found.svg" "$tmp/gpu-passthrough.svg" >>"$tmp/out" 2>&1; then
	ok "check -o FILE --svg and run --svg write FILE.svg beside the script, as XML"
else
	cat "$tmp/check.out" >>"$tmp/out"
	not_ok "check -o FILE --svg and run --svg write FILE.svg beside the script, as XML"
fi

exit $((fails > 0))
