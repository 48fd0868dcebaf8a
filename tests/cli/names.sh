#!/bin/sh
# Where 'dmaown run' and 'dmaown show' take PCI names from (docs/scripts.md,
# "lspci and names"): --pci-ids FILE, else $DMAOWN_PCI_IDS, else the host's
# pci.ids through libpci as lspci finds it; -n (--numeric) none. The pinned
# file is tests/data/pci.ids, of our own writing. TAP output.
#
# usage: names.sh DMAOWN PCI_IDS
set -u

dmaown=$1
ids=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/names.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
unset DMAOWN_PCI_IDS

echo "1..7"
# shellcheck source=tests/cli/tap.sh
. "$(dirname "$0")/tap.sh"

printf 'lspci -nn -s 02:00.0\n' >"$tmp/s.sh"
# expect NAME WANT CMD...: CMD's stdout and stderr are WANT
expect() {
	name=$1
	want=$2
	shift 2
	"$@" >"$tmp/got" 2>&1
	printf '%s\n' "$want" >"$tmp/want"
	if cmp -s "$tmp/want" "$tmp/got"; then
		ok "$name"
	else
		diff "$tmp/want" "$tmp/got" >"$tmp/out"
		not_ok "$name"
	fi
}

expect "run --pci-ids: the pinned file's names" \
	"02:00.0 Ethernet controller [0200]: Intel Corporation 82574L Gigabit Ethernet controller [8086:10d3]" \
	"$dmaown" run --pci-ids "$ids" -m x86-desktop "$tmp/s.sh"
expect "run -n: no names, as lspci without pci.ids" \
	"02:00.0 Class [0200]: Device [8086:10d3]" \
	"$dmaown" run -n --pci-ids "$ids" -m x86-desktop "$tmp/s.sh"
expect "DMAOWN_PCI_IDS pins the file; --pci-ids wins over it" \
	"02:00.0 Ethernet controller [0200]: Intel Corporation 82574L Gigabit Ethernet controller [8086:10d3]" \
	env DMAOWN_PCI_IDS=/nonexistent "$dmaown" run --pci-ids "$ids" -m x86-desktop "$tmp/s.sh"
expect "a pinned file that cannot be read is an error" \
	"dmaown: cannot read pci.ids file '$tmp/none': No such file or directory" \
	"$dmaown" show --pci-ids "$tmp/none" x86-desktop

"$dmaown" show --pci-ids "$ids" x86-desktop >"$tmp/got" 2>&1
if grep -q "^  0000:02:00.0   pci      e1000e           dma=kernel  Intel Corporation 82574L Gigabit Ethernet controller \[8086:10d3\]$" "$tmp/got" &&
   "$dmaown" show -n x86-desktop | grep -q "^  0000:02:00.0   pci      e1000e           dma=kernel$"; then
	ok "show: lspci -nn's names at the end of a PCI line; -n: none"
else
	cp "$tmp/got" "$tmp/out"
	not_ok "show: names at the end of a PCI line"
fi

# the host's own pci.ids, whatever its version: libpci's default file
if [ -r /usr/share/misc/pci.ids ] || [ -r /usr/share/hwdata/pci.ids ]; then
	"$dmaown" run -m x86-desktop "$tmp/s.sh" >"$tmp/got" 2>&1
	if grep -q "^02:00.0 Ethernet controller \[0200\]: Intel Corporation .*82574L.* \[8086:10d3\]$" "$tmp/got"; then
		ok "by default, the host's pci.ids, as lspci finds it"
	else
		cp "$tmp/got" "$tmp/out"
		not_ok "by default, the host's pci.ids"
	fi
else
	skip "by default, the host's pci.ids" "no pci.ids on this host (Debian: pci.ids)"
fi

# @show in a script: the same names
printf '@show\n' >"$tmp/show.sh"
"$dmaown" run --pci-ids "$ids" -m x86-desktop "$tmp/show.sh" >"$tmp/a" 2>&1
"$dmaown" show --pci-ids "$ids" x86-desktop >"$tmp/b" 2>&1
if cmp -s "$tmp/a" "$tmp/b"; then
	ok "@show prints what dmaown show prints, names included"
else
	diff "$tmp/a" "$tmp/b" >"$tmp/out"
	not_ok "@show against dmaown show"
fi
[ "$fails" -eq 0 ]
