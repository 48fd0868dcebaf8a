#!/bin/sh
# 'dmaown show --dot|--svg|--png' (docs/pictures.md): the DOT text of two
# built-in machines is byte for byte the reviewed golden file (-n: ids, no
# pci.ids names, so the host's pci.ids version does not matter); a user-owned
# group names its owner; every SVG, of every built-in machine, parses as
# XML; without dot in PATH --svg fails with a clear message and --dot still
# works. The SVG tests are skipped when Graphviz's dot is absent, except
# under CI=true. TAP output.
#
# usage: pictures.sh DMAOWN GOLDEN_DIR
set -u

dmaown=$1
golden=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pictures.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "1..8"
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
	else
		skip "every built-in machine's SVG parses as XML" "$why"
		skip "a blocked and a user-owned state's SVG parses as XML" "$why"
		skip "--png writes a PNG to -o FILE" "$why"
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

exit $((fails > 0))
