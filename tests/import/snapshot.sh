#!/bin/sh
# snapshot.sh DMAOWN
#
# dmaown snapshot on a generated sysfs tree (gen-lspci.py --sysfs, with a
# Device Serial Number in one function's config space): the archive holds
# only what import reads, the serial is blanked, the same tree gives the
# same bytes, and import --snapshot of the unpacked archive gives the same
# machine file as import --sysfs of the tree. Output: TAP.
set -u

case $1 in
/*) dmaown=$1 ;;
*) dmaown=$(pwd)/$1 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/snapshot.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
n=0
fails=0
check() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		fails=$((fails + 1))
		echo "not ok $n - $2"
	fi
}
echo "1..7"

cd "$tmp" || exit 2
python3 "$here/gen-lspci.py" --sysfs alderlake sys || exit 2
python3 "$here/gen-lspci.py" --sysfs armboard arm || exit 2
echo "quiet intel_iommu=on iommu=pt" >cmdline

"$dmaown" snapshot -o a.tar --sysfs sys --cmdline cmdline 2>err
check $? "snapshot of a sysfs tree"
"$dmaown" snapshot -o b.tar --sysfs sys --cmdline cmdline 2>>err
cmp -s a.tar b.tar
check $? "the same tree gives the same bytes"

tar -tf a.tar >list
! grep -v -e '^dmaown-snapshot/$' -e '^dmaown-snapshot/VERSION$' \
	-e '^dmaown-snapshot/cmdline$' -e '^dmaown-snapshot/sys/' list |
	grep -q . &&
	! grep -q -e '/vpd$' -e '/net/' -e '/resource' list
check $? "only what import reads"

mkdir x && (cd x && tar -xf ../a.tar)
cfg=$(find x -path '*0000:07:00.0/config')
orig=$(find sys -path '*0000:07:00.0/config')
# the serial: 8 bytes at 0x144
[ "$(od -An -tx1 -j 324 -N 8 "$cfg" | tr -d ' \n')" = 0000000000000000 ] &&
	[ "$(od -An -tx1 -j 324 -N 8 "$orig" | tr -d ' \n')" != 0000000000000000 ]
check $? "the Device Serial Number is blanked"

"$dmaown" import --snapshot x/dmaown-snapshot --name al 2>/dev/null |
	grep -v -e '^# Imported' -e '^description' >from-snapshot
"$dmaown" import --sysfs sys --cmdline cmdline --name al 2>/dev/null |
	grep -v -e '^# Imported' -e '^description' >from-sysfs
cmp -s from-snapshot from-sysfs && grep -q '^default-domain' from-snapshot
check $? "import --snapshot gives what import --sysfs gives"

"$dmaown" snapshot -o c.tar --sysfs arm 2>/dev/null &&
	mkdir y && (cd y && tar -xf ../c.tar) &&
	"$dmaown" import --snapshot y/dmaown-snapshot 2>/dev/null |
	grep -q '^amba fe530000.dma periphid=0x00041330'
check $? "platform and AMBA members travel in the snapshot"

"$dmaown" snapshot --sysfs sys >/dev/null 2>&1
[ $? = 2 ]
check $? "no -o: exit status 2"
[ "$fails" -eq 0 ]
