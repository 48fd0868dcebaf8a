#!/bin/sh
# Writes the x86 twin's scenarios (tests/kernel/[0-9]*.sh, but the groups
# and the bridge, which each twin has its own of) for another twin, with
# the group numbers its x86.map gives, into OUTDIR as NN-x86-NAME.sh, and
# prints their paths. A group number is rewritten where a line names a
# group: @vfio open|status|close|set-container|get-device-fd N and
# /sys/kernel/iommu_groups/N/.
#
# usage: port-x86.sh TWIN_DIR OUTDIR    (TWIN_DIR: tests/kernel/MACHINE)
set -eu
twin=$1 out=$2
dir=$(dirname "$0")
map=$twin/x86.map
machine=$(basename "$twin")
mkdir -p "$out"
# each X as <Y> first, so that a number already rewritten is not again
sedscript=$(awk '$1 == "group" {
	printf "s#\\(@vfio \\(open\\|status\\|close\\|set-container\\|get-device-fd\\) \\)%s\\( \\|$\\)#\\1<%s>\\3#\n", $2, $3
	printf "s|\\(iommu_groups/\\)%s/|\\1<%s>/|\n", $2, $3
}
$1 == "driver-links" && $2 == "ls-d" {
	print "s|^readlink /sys/bus/pci/devices/\\(0000:..:..\\..\\)/driver$|ls -d /sys/bus/pci/devices/\\1/driver/\\1|"
}' "$map")
for s in "$dir"/[0-9]*.sh; do
	name=$(basename "$s")
	case $name in 01-groups.sh|07-bridge-group.sh) continue ;; esac
	dst=$out/$(printf '%s' "$name" | sed 's/^\([0-9]*\)-/\1-x86-/')
	{
		echo "# $name of qemu-x86-vtd on $machine (tests/kernel/port-x86.sh,"
		echo "# $map): what it checks is said there."
		grep -v '^# machine:' "$s" | sed -e "$sedscript" -e 's|<\([0-9]*\)>|\1|g' |
			sed "1,/^[^#]/{/^[^#]/i\\
# machine: $machine
}"
	} >"$dst"
	echo "$dst"
done
