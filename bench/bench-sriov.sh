#!/bin/sh
# bench-sriov.sh DMAOWN - what making VFs costs (docs/performance.md): a
# computed-groups machine of N root ports with ACS, 8 functions each, the
# first an SR-IOV PF with 64 VFs; 'echo 64 > sriov_numvfs' then 'echo 0'
# timed against booting alone, for N = 100, 1,000 and 10,000. A VF is
# grouped by pci_device_group() over its path to the root only, so the
# cost per VF should not grow with the machine.
set -u
dmaown=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-sriov.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

gen() { # N: root ports
	awk -v n="$1" 'BEGIN {
		print "machine big"; print "firmware x86"; print "groups computed"
		print "iommu dmar0"
		for (rp = 0; rp < n; rp++)
			printf "pci %04x:00:%02x.%d 8086:2030 class=060400 type=root-port iommu=dmar0 acs-cap=sv,rr,cr,uf\n",
				int(rp / 256), int(rp % 256 / 8), rp % 8
		for (rp = 0; rp < n; rp++)
			for (f = 0; f < 8; f++)
				printf "pci %04x:%02x:00.%d 8086:1572 class=020000 parent=%04x:00:%02x.%d iommu=dmar0 acs-cap=-%s\n",
					int(rp / 256), rp % 256 + 1, f, int(rp / 256),
					int(rp % 256 / 8), rp % 8,
					rp == 0 && f == 0 ? " sriov-totalvfs=64 vf-offset=128 vf-stride=1 vf-device=154c" : ""
		print "driver pcieport"; print "driver i40e"
	}'
}
secs() { # command...: elapsed seconds, best of 3
	best=
	for _ in 1 2 3; do
		t0=$(date +%s.%N)
		"$@" >/dev/null 2>&1
		t1=$(date +%s.%N)
		t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
		if [ -z "$best" ] ||
		   [ "$(awk -v t="$t" -v b="$best" 'BEGIN { print t < b }')" = 1 ]; then
			best=$t
		fi
	done
	echo "$best"
}
printf 'echo 64 > /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs\necho 0 > /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs\n' >"$tmp/vfs.sh"
printf 'true\n' >"$tmp/nop.sh"
echo "functions  boot (s)  boot + 64 VFs made and removed (s)  per VF (ms)"
for n in 100 1000 10000; do
	gen "$n" >"$tmp/m.machine"
	b=$(secs "$dmaown" run -m "$tmp/m.machine" "$tmp/nop.sh")
	v=$(secs "$dmaown" run -m "$tmp/m.machine" "$tmp/vfs.sh")
	printf '%9d  %8.3f  %8.3f  %6.2f\n' $((n * 9)) "$b" "$v" \
		"$(awk -v v="$v" -v b="$b" 'BEGIN { print (v - b) * 1000 / 64 }')"
done
