#!/bin/bash
# Real tools on a live simulated /sys (docs/live-sys.md): 'dmaown mount'
# serves x86-desktop through FUSE, and lspci, shell loops and plain writes
# run against it unchanged; 'dmaown shell' runs driverctl with the machine
# as /sys, and dpdk-devbind.py, on x86-desktop, x86-server and, for SR-IOV,
# sriov-host. Each result is compared with the model's own answer ('dmaown
# run'), and the host is checked untouched afterwards. TAP output.
#
# Needs root and /dev/fuse: without them the test is skipped with the
# reason, except under CI=true, where that is a failure.
#
# usage: live-sys.sh DMAOWN
set -u

case $1 in
/*) dmaown=$1 ;;
*) dmaown=$(pwd)/$1 ;;
esac
M=x86-desktop
GPU=0000:01:00.0
AUDIO=0000:01:00.1

skip_all() {
	if [ "${CI:-}" = true ]; then
		echo "1..1"
		echo "not ok 1 - live /sys: $1 (CI=true: this must run)"
		exit 1
	fi
	echo "1..0 # SKIP $1"
	exit 0
}
[ "$(id -u)" = 0 ] || skip_all "not root"
[ -c /dev/fuse ] || skip_all "no /dev/fuse"
command -v fusermount3 >/dev/null || skip_all "no fusermount3 (Debian: fuse3)"
command -v lspci >/dev/null || skip_all "no lspci (Debian: pciutils)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/live-sys.XXXXXX") || exit 2
mnt=$tmp/mnt
mkdir "$mnt"
chmod 755 "$tmp"	# other users reach the mount, as they reach /sys
pid=
cleanup() {
	[ -n "$pid" ] && { fusermount3 -u "$mnt" 2>/dev/null; wait "$pid"; }
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

echo "1..27"
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1))
	echo "not ok $n - $1"
	shift
	for f in "$@"; do [ -f "$f" ] && sed 's/^/# /' "$f"; done
	fails=$((fails + 1))
}
check() { # NAME, then a command that must succeed
	local name=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then ok "$name"; else not_ok "$name" "$tmp/out"; fi
}
model() { # the model's answer to shell lines, on a fresh machine
	printf "%s\n" "$@" | "$dmaown" run -m "$M" /dev/stdin
}

"$dmaown" mount "$M" "$mnt" >"$tmp/mount.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
	[ -d "$mnt/sys/bus" ] && break
	sleep 0.05
done
S=$mnt/sys

# 1. the directory listings are the model's
ls "$S/bus/pci/devices" >"$tmp/fuse-ls"
model "ls /sys/bus/pci/devices" >"$tmp/model-ls"
check "ls /sys/bus/pci/devices is the model's" cmp "$tmp/fuse-ls" "$tmp/model-ls"

# 2. lspci reads config, names and drivers through libpci's sysfs method
lspci -O sysfs.path="$S/bus/pci" -nnk -s "$GPU" >"$tmp/lspci" 2>/dev/null
check "lspci -nnk sees the GPU's ids, class and driver" \
	grep -q "VGA compatible controller \[0300\].*\[10de:1b80\]" "$tmp/lspci"
check "lspci -k names nouveau" grep -q "Kernel driver in use: nouveau" "$tmp/lspci"
[ "$(lspci -O sysfs.path="$S/bus/pci" 2>/dev/null | wc -l)" = "$(wc -l <"$tmp/model-ls")" ] &&
	ok "lspci lists every function" || not_ok "lspci lists every function"

# the script's lspci prints what pciutils' lspci prints of the same tree,
# names from the same pinned pci.ids (no udev hwdb): real lspci as oracle
ids=${DMAOWN_PCI_IDS:-$(cd "$(dirname "$0")/../data" && pwd)/pci.ids}
: >"$tmp/real-names"
: >"$tmp/model-names"
for flags in "" -n -nn "-D -nn" "-nn -s 01:00" "-d 8086: -nn"; do
	# shellcheck disable=SC2086
	lspci -i "$ids" -O hwdb.disable=1 -O sysfs.path="$S/bus/pci" $flags \
		>>"$tmp/real-names" 2>&1
	printf 'lspci %s\n' "$flags" |
		"$dmaown" run --pci-ids "$ids" -m "$M" /dev/stdin >>"$tmp/model-names" 2>&1
done
if cmp -s "$tmp/real-names" "$tmp/model-names"; then
	ok "lspci, -n, -nn, -D, -s, -d: the script's lspci prints pciutils' lspci's bytes"
else
	diff "$tmp/real-names" "$tmp/model-names" >"$tmp/out"
	not_ok "the script's lspci against pciutils' lspci" "$tmp/out"
fi

lspci -O sysfs.path="$S/bus/pci" -vvv -s 00:01.0 >"$tmp/lspci" 2>/dev/null
grep -q "Bus: primary=00, secondary=01, subordinate=01" "$tmp/lspci" &&
	grep -q "Capabilities: \[40\] Express (v2) Root Port" "$tmp/lspci" &&
	grep -q "IOMMU group: 1" "$tmp/lspci" &&
	ok "lspci -vvv: the root port's buses, PCIe capability and group" ||
	not_ok "lspci -vvv of the root port" "$tmp/lspci"

# 3. modes as the kernel declares them
modes=$(stat -c '%a %s' "$S/bus/pci/drivers/nouveau/bind" \
	"$S/bus/pci/devices/$GPU/driver_override" "$S/bus/pci/devices/$GPU/config" | tr '\n' ' ')
[ "$modes" = "200 4096 644 4096 444 4096 " ] && ok "bind 0200, driver_override 0644, config 4096 bytes" ||
	{ echo "$modes" >"$tmp/out"; not_ok "modes and sizes" "$tmp/out"; }

# 4. writes go through the model, refusals come back as write(2) errors
{
	echo vfio-pci >"$S/bus/pci/devices/$GPU/driver_override" &&
	echo "$GPU" >"$S/bus/pci/drivers/nouveau/unbind" &&
	echo "modprobe vfio-pci" >"$mnt/.dmaown/ctl" &&
	echo "$GPU" >"$S/bus/pci/drivers_probe" &&
	echo vfio-pci >"$S/bus/pci/devices/$AUDIO/driver_override" &&
	echo "$AUDIO" >"$S/bus/pci/drivers/snd_hda_intel/unbind" &&
	echo "$AUDIO" >"$S/bus/pci/drivers_probe"
} >"$tmp/out" 2>&1
[ "$(basename "$(readlink "$S/bus/pci/devices/$GPU/driver")")" = vfio-pci ] &&
	ok "driver_override, unbind, drivers_probe move the GPU to vfio-pci" ||
	not_ok "the GPU moves to vfio-pci" "$tmp/out"
echo "@vmm assign $GPU" >"$mnt/.dmaown/ctl" 2>"$tmp/out"
echo >"$S/bus/pci/devices/$AUDIO/driver_override"
echo "$AUDIO" >"$S/bus/pci/drivers/vfio-pci/unbind"
# the group is userspace's: a kernel driver may not bind into it
err=$( (echo "$AUDIO" >"$S/bus/pci/drivers/snd_hda_intel/bind") 2>&1)
case $err in
*"Device or resource busy"*) ok "bind into a group a VMM owns: EBUSY from write(2)" ;;
*) echo "$err" >"$tmp/out"; not_ok "bind into an owned group fails with EBUSY" "$tmp/out" ;;
esac
err=$( (echo 0000:99:00.0 >"$S/bus/pci/drivers/vfio-pci/bind") 2>&1)
case $err in
*"No such device"*) ok "bind of no such device: ENODEV" ;;
*) echo "$err" >"$tmp/out"; not_ok "bind of no such device: ENODEV" "$tmp/out" ;;
esac

# 5. root-only writes stay root-only; everyone reads, as on /sys
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		sh -c "cat $S/bus/pci/devices/$GPU/vendor && ! echo x > $S/bus/pci/devices/$GPU/driver_override" \
		>"$tmp/out" 2>&1 && grep -q "Permission denied" "$tmp/out" &&
		ok "nobody reads, and is refused a write (EACCES)" ||
		not_ok "nobody reads, and is refused a write" "$tmp/out"
else
	ok "nobody reads, and is refused a write # SKIP no setpriv"
fi

# 6. the kernel log, live
NIC=0000:03:00.0
echo "$NIC" >"$S/bus/pci/drivers/e1000e/unbind"
echo "@fault probe e1000e ENOMEM 1" >"$mnt/.dmaown/ctl"
(echo "$NIC" >"$S/bus/pci/drivers/e1000e/bind") 2>/dev/null
check "the log, read live, has the failed probe" \
	grep -q "e1000e $NIC: probe with driver e1000e failed with error -12\|probe of $NIC failed with error -12" "$mnt/.dmaown/dmesg"

# 7. the Arch wiki's group listing, over the mount
for g in "$S"/kernel/iommu_groups/*; do
	for d in "$g"/devices/*; do echo "${g##*/} ${d##*/}"; done
done | sort >"$tmp/fuse-groups"
model 'ls -d /sys/kernel/iommu_groups/*/devices/*' |
	sed 's|^/sys/kernel/iommu_groups/\([0-9]*\)/devices/|\1 |' | sort >"$tmp/model-groups"
check "the Arch wiki's group loop lists the model's groups" cmp "$tmp/fuse-groups" "$tmp/model-groups"

# 8. several clients at once: FUSE's threads on the model's own locks
for i in 1 2 3 4; do
	(
		# lspci -n: the reads race, not the lookups of names in pci.ids
		for _ in $(seq 12); do
			cat "$S"/bus/pci/devices/*/driver_override >/dev/null
			lspci -O sysfs.path="$S/bus/pci" -nk >/dev/null 2>&1
			echo i915 >"$S/bus/pci/devices/0000:00:02.0/driver_override"
			echo >"$S/bus/pci/devices/0000:00:02.0/driver_override"
		done
	) &
done
wait $(jobs -p | grep -v "^$pid$") 2>/dev/null
kill -0 "$pid" 2>/dev/null && [ "$(cat "$S/bus/pci/devices/0000:00:02.0/driver_override")" = "(null)" ] &&
	ok "four clients reading and writing at once" ||
	not_ok "four clients at once" "$tmp/mount.log"

# 9. dmaown show attaches to the mounted machine: the state now
"$dmaown" show --mounted "$mnt" >"$tmp/out" 2>&1
"$dmaown" show --mounted "$mnt" --json >"$tmp/out.json" 2>&1
grep -q "0000:01:00.0" "$tmp/out" && grep -q '^{"version":1' "$tmp/out.json" &&
	ok "dmaown show --mounted, text and JSON" ||
	not_ok "dmaown show --mounted" "$tmp/out" "$tmp/out.json"

# 10. unmounting ends dmaown mount, which prints the log
fusermount3 -u "$mnt"
wait "$pid"
st=$?
pid=
[ "$st" = 0 ] && grep -q "Adding to iommu group" "$tmp/mount.log" &&
	ok "unmount: dmaown mount exits 0 and prints the kernel log" ||
	not_ok "unmount ends dmaown mount with the log" "$tmp/mount.log"

# 9. driverctl in dmaown shell, on the machine's /sys
before=$(ls /sys/bus/pci/devices | md5sum)
if command -v driverctl >/dev/null; then
	"$dmaown" shell "$M" -- sh -c "driverctl --nosave set-override $GPU vfio-pci &&
		driverctl list-devices | grep '^$GPU' &&
		driverctl --nosave unset-override $GPU &&
		driverctl list-devices | grep '^$GPU'" >"$tmp/out" 2>&1
	grep -q "^$GPU vfio-pci \[\*\]" "$tmp/out" && grep -q "^$GPU nouveau$" "$tmp/out" &&
		ok "driverctl set-override and unset-override in dmaown shell" ||
		not_ok "driverctl in dmaown shell" "$tmp/out"
else
	ok "driverctl in dmaown shell # SKIP no driverctl"
fi

# 10b. /dev/vfio in dmaown shell: the machine's nodes, on an overlay of the
# host's /dev (whose /dev/null still works)
"$dmaown" shell "$M" -- sh -c "modprobe vfio-pci &&
	echo vfio-pci > /sys/bus/pci/devices/0000:03:00.0/driver_override &&
	echo 0000:03:00.0 > /sys/bus/pci/drivers/e1000e/unbind &&
	echo 0000:03:00.0 > /sys/bus/pci/drivers_probe && ls /dev/vfio &&
	echo x > /dev/null && echo NULL-OK" >"$tmp/out" 2>&1
grep -qx 10 "$tmp/out" && grep -qx vfio "$tmp/out" && grep -q NULL-OK "$tmp/out" &&
	! grep -q "fuse:" "$tmp/out" &&
	ok "dmaown shell: /dev/vfio holds the machine's group 10, /dev is otherwise the host's" ||
	not_ok "dmaown shell's /dev/vfio" "$tmp/out"

# 10. dpdk-devbind.py in dmaown shell: bind, status, unbind, and a bind
# the kernel refuses because a VMM owns the group (x86-server's ixgbe pair
# shares group 9)
if command -v dpdk-devbind.py >/dev/null; then
	NIC=0000:03:00.0
	"$dmaown" shell "$M" -- sh -c "modprobe vfio-pci &&
		dpdk-devbind.py -b vfio-pci $NIC && dpdk-devbind.py --status-dev net &&
		dpdk-devbind.py -u $NIC && readlink /sys/bus/pci/devices/$NIC/driver ||
		echo UNBOUND" >"$tmp/out" 2>/dev/null
	grep -q "^$NIC '.*' drv=vfio-pci" "$tmp/out" &&
		ok "dpdk-devbind.py -b vfio-pci and --status-dev net" ||
		not_ok "dpdk-devbind.py -b vfio-pci and --status-dev net" "$tmp/out"
	grep -q "^UNBOUND$" "$tmp/out" && ok "dpdk-devbind.py -u leaves it unbound" ||
		not_ok "dpdk-devbind.py -u leaves it unbound" "$tmp/out"
	"$dmaown" shell x86-server -- sh -c 'modprobe vfio-pci &&
		dpdk-devbind.py -b vfio-pci 0000:18:00.0 0000:18:00.1 &&
		echo "@vmm assign 0000:18:00.0" >"$DMAOWN_CTL" &&
		dpdk-devbind.py -b ixgbe 0000:18:00.1' >"$tmp/out" 2>&1
	grep -q "bind failed for 0000:18:00.1 - Cannot bind to driver ixgbe: \[Errno 16\] Device or resource busy" "$tmp/out" &&
		ok "dpdk-devbind.py -b ixgbe into a group a VMM owns: EBUSY, as on hardware" ||
		not_ok "dpdk-devbind.py into an owned group: EBUSY" "$tmp/out"
else
	for t in 1 2 3; do ok "dpdk-devbind.py # SKIP not installed"; done
fi

# 12. SR-IOV on sriov-host in dmaown shell: the sriov_* files read as the
# model's, a count written through the mount makes the VFs (virtfnN links,
# the model's device list), a second count is EBUSY from write(2), and
# dpdk-devbind.py sees the VFs and moves one to vfio-pci.
PF=/sys/bus/pci/devices/0000:02:00.0
"$dmaown" shell sriov-host -- sh -c "cat $PF/sriov_totalvfs $PF/sriov_offset \
	$PF/sriov_stride $PF/sriov_vf_device $PF/sriov_drivers_autoprobe &&
	echo 2 > $PF/sriov_numvfs && cat $PF/sriov_numvfs &&
	readlink $PF/virtfn1 /sys/bus/pci/devices/0000:02:02.1/physfn &&
	ls /sys/bus/pci/devices" >"$tmp/out" 2>&1
printf '%s\n' "cat $PF/sriov_totalvfs $PF/sriov_offset $PF/sriov_stride $PF/sriov_vf_device $PF/sriov_drivers_autoprobe" \
	"echo 2 > $PF/sriov_numvfs" "cat $PF/sriov_numvfs" \
	"readlink $PF/virtfn1 /sys/bus/pci/devices/0000:02:02.1/physfn" \
	"ls /sys/bus/pci/devices" | "$dmaown" run -m sriov-host /dev/stdin >"$tmp/model" 2>&1
# what the shell printed, without the kernel log it prints at exit
sed -n '/^64$/,$p' "$tmp/out" | head -n "$(wc -l <"$tmp/model")" >"$tmp/fuse"
cmp "$tmp/fuse" "$tmp/model" >/dev/null 2>&1 &&
	grep -qx "0000:02:02.1" "$tmp/fuse" &&
	ok "sriov_* files and sriov_numvfs written through the mount: the model's VFs and links" ||
	not_ok "sriov files through the mount" "$tmp/out" "$tmp/model"
# (bash: dash's echo reports every failed write as an I/O error)
"$dmaown" shell sriov-host -- bash -c "echo 2 > $PF/sriov_numvfs &&
	{ echo 3 > $PF/sriov_numvfs || echo REFUSED; } &&
	{ echo 65 > $PF/sriov_numvfs || echo REFUSED-RANGE; } && cat $PF/sriov_numvfs" \
	>"$tmp/out" 2>&1
grep -q "Device or resource busy" "$tmp/out" && grep -qx REFUSED "$tmp/out" &&
	grep -q "Numerical result out of range" "$tmp/out" &&
	grep -qx REFUSED-RANGE "$tmp/out" && grep -qx 2 "$tmp/out" &&
	ok "sriov_numvfs: EBUSY and ERANGE from write(2), the count kept" ||
	not_ok "sriov_numvfs errors through the mount" "$tmp/out"
if command -v dpdk-devbind.py >/dev/null; then
	"$dmaown" shell sriov-host -- sh -c "modprobe vfio-pci &&
		echo 2 > $PF/sriov_numvfs && lspci -vvv -s 02:00.0 &&
		dpdk-devbind.py --status-dev net &&
		dpdk-devbind.py -b vfio-pci 0000:02:02.1 &&
		readlink /sys/bus/pci/devices/0000:02:02.1/driver" \
		>"$tmp/out" 2>&1
	grep -q "^0000:02:02.0 '.*154c' .*drv=iavf" "$tmp/out" &&
		grep -q "^0000:02:02.1 '.*154c' .*drv=iavf" "$tmp/out" &&
		grep -q "drivers/vfio-pci$" "$tmp/out" &&
		grep -q "Single Root I/O Virtualization (SR-IOV)" "$tmp/out" &&
		grep -q "Total VFs: 64, Number of VFs: 2," "$tmp/out" &&
		grep -q "VF offset: 16, stride: 1, Device ID: 154c" "$tmp/out" &&
		ok "lspci -vvv shows the PF's SR-IOV capability; dpdk-devbind.py --status shows the VFs on iavf; -b vfio-pci moves one" ||
		not_ok "dpdk-devbind.py and VFs" "$tmp/out"
else
	ok "dpdk-devbind.py and VFs # SKIP not installed"
fi

# 13. import and snapshot of an SR-IOV machine with VFs: the PFs' options
# come back, the VFs are left out with a note, the file boots, and the
# snapshot holds the sriov_* files and the VFs' physfn links
smnt=$tmp/smnt
mkdir "$smnt"
"$dmaown" mount sriov-host "$smnt" >"$tmp/smount.log" 2>&1 &
spid=$!
for _ in $(seq 100); do
	[ -d "$smnt/sys/bus" ] && break
	sleep 0.05
done
echo 2 >"$smnt/sys/bus/pci/devices/0000:02:00.0/sriov_numvfs"
"$dmaown" import --sysfs "$smnt/sys" -o "$tmp/imp.machine" >"$tmp/out" 2>&1
"$dmaown" snapshot --sysfs "$smnt/sys" -o "$tmp/snap.tar" >>"$tmp/out" 2>&1
fusermount3 -u "$smnt"
wait "$spid"
grep -q "^pci 0000:02:00.0 8086:1572 .* sriov-totalvfs=64 vf-offset=16 vf-stride=1 vf-device=154c" "$tmp/imp.machine" &&
	grep -q "^pci 0000:01:00.1 8086:10fb .* sriov-totalvfs=64 vf-offset=128 vf-stride=2 vf-device=10ed" "$tmp/imp.machine" &&
	! grep -q "^pci 0000:02:02" "$tmp/imp.machine" &&
	grep -q "note: 0000:02:00.0 had 2 VFs: write 2 to its sriov_numvfs" "$tmp/imp.machine" &&
	printf 'echo 2 > /sys/bus/pci/devices/0000:02:00.0/sriov_numvfs\nls /sys/bus/pci/devices/0000:02:00.0/virtfn1\n' |
		"$dmaown" run -m "$tmp/imp.machine" /dev/stdin >>"$tmp/out" 2>&1 &&
	ok "import --sysfs of a machine with VFs: the PFs' SR-IOV options, no VF lines, a note; it boots and makes VFs" ||
	not_ok "import of SR-IOV" "$tmp/out" "$tmp/imp.machine"
tar -tf "$tmp/snap.tar" >"$tmp/list" 2>>"$tmp/out"
grep -q "0000:02:00.0/sriov_totalvfs$" "$tmp/list" &&
	grep -q "0000:02:00.0/sriov_numvfs$" "$tmp/list" &&
	grep -q "0000:02:00.0/sriov_vf_device$" "$tmp/list" &&
	grep -q "0000:02:02.1/physfn$" "$tmp/list" &&
	ok "snapshot holds the sriov_* files and the VFs' physfn links" ||
	not_ok "snapshot of SR-IOV" "$tmp/out" "$tmp/list"

# 11. the host is untouched, even when dmaown shell is killed
# (a sleep of its own length, so that no other run's sleep is killed, and
# only this run's mounts looked at: others may have theirs meanwhile)
nap=30.$$
"$dmaown" shell "$M" -- sleep "$nap" >/dev/null 2>&1 &
spid=$!
sleep 0.5
kill -9 "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
pkill -f "^sleep $nap\$" 2>/dev/null
after=$(ls /sys/bus/pci/devices | md5sum)
[ "$before" = "$after" ] && ! grep -q " $tmp" /proc/self/mountinfo &&
	! awk '$5 == "/sys" && $0 ~ / - (tmpfs|fuse)/' /proc/self/mountinfo | grep -q . &&
	ok "the host's /sys and mounts are untouched, dmaown shell killed or not" ||
	not_ok "the host is untouched"

exit $((fails > 0))
