#!/bin/sh
# self-import.sh DMAOWN [SYSFS]
#
# dmaown import --sysfs on this machine's own /sys (whatever it holds: in a
# VM perhaps a few virtio functions and no IOMMU): every PCI function of
# /sys is in the machine file, and booting that file binds each function
# to the driver /sys shows, unless the import says in a note why not (a
# driver dmaown's catalogue lacks, or whose id table differs). Output: TAP.
set -u

case $1 in
/*) dmaown=$1 ;;
*) dmaown=$(pwd)/$1 ;;
esac
sys=${2:-/sys}
devices=$sys/bus/pci/devices
if [ ! -d "$devices" ]; then
	echo "1..0 # SKIP no $devices here"
	exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/self-import.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

n=0
fails=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
notok() {
	n=$((n + 1))
	fails=$((fails + 1))
	echo "not ok $n - $1"
}

names=$(ls "$devices")
count=$(echo "$names" | grep -c .)
echo "1..$((count * 2 + 2))"

if "$dmaown" import --sysfs "$sys" -o "$tmp/self.machine" 2>"$tmp/notes"; then
	ok "import --sysfs $sys"
else
	notok "import --sysfs $sys: $(cat "$tmp/notes")"
	exit 1
fi
if "$dmaown" show "$tmp/self.machine" >/dev/null 2>&1; then
	ok "the imported machine boots"
else
	notok "the imported machine boots"
fi

for d in $names; do
	if grep -q "^pci $d " "$tmp/self.machine"; then
		ok "$d is in the machine file"
	else
		notok "$d is in the machine file"
	fi
	real=""
	[ -L "$devices/$d/driver" ] && real=$(basename "$(readlink "$devices/$d/driver")")
	# the model's own sysfs says which driver it bound
	got=$("$dmaown" run -m "$tmp/self.machine" /dev/stdin 2>/dev/null <<EOS
readlink /sys/bus/pci/devices/$d/driver
EOS
)
	got=${got##*/}
	if [ "$got" = "$real" ]; then
		ok "$d: driver '${real:-none}' as in $sys"
	elif grep -q "^# note: $d: " "$tmp/self.machine"; then
		ok "$d: driver '${got:-none}', not '$real': the import says why"
	else
		notok "$d: driver '${got:-none}' in the model, '${real:-none}' in $sys, and no note"
	fi
done
[ "$fails" -eq 0 ]
