#!/bin/sh
# 'dmaown kernel' without QEMU (docs/oracle.md): the QEMU twin of the
# built-in qemu-x86-vtd machine, mapping and command line, is the golden
# file; a machine with other bus numbers is renumbered as SeaBIOS numbers
# buses; machines QEMU cannot build are refused with the reason; 'kernel
# run' refuses a script line with no real-kernel form before any boot;
# the diff engine on canned guest output finds nothing where the real
# 6.12 kernel agreed with the model and names each planted difference.
# TAP output.
#
# usage: kernel-twin.sh DMAOWN TESTS_KERNEL_DIR
set -u

dmaown=$1
dir=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kernel-twin.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "1..23"
# shellcheck source=tests/cli/tap.sh
. "$(dirname "$0")/tap.sh"

if "$dmaown" kernel twin qemu-x86-vtd >"$tmp/twin" 2>"$tmp/out" &&
   cmp "$dir/golden/twin-qemu-x86-vtd.txt" "$tmp/twin" >"$tmp/out" 2>&1; then
	ok "the twin of qemu-x86-vtd is the golden file"
else
	diff -u "$dir/golden/twin-qemu-x86-vtd.txt" "$tmp/twin" >>"$tmp/out" 2>&1
	not_ok "the twin of qemu-x86-vtd is the golden file"
fi

# The arm64 twins (qemu-arm64.c): virt with an SMMUv3 and GICv3, QEMU's
# device tree or UEFI with ACPI/IORT, the one UART for console and results.
for m in qemu-arm64-smmuv3 qemu-arm64-iort; do
	if "$dmaown" kernel twin $m >"$tmp/twin" 2>"$tmp/out" &&
	   cmp "$dir/golden/twin-$m.txt" "$tmp/twin" >"$tmp/out" 2>&1; then
		ok "the twin of $m is the golden file"
	else
		diff -u "$dir/golden/twin-$m.txt" "$tmp/twin" >>"$tmp/out" 2>&1
		not_ok "the twin of $m is the golden file"
	fi
done

# An arm64 twin boots the arm64 build of the pinned line.
printf 'ls /sys/kernel/iommu_groups\n' >"$tmp/ls.sh"
DMAOWN_KERNELS=$tmp/none "$dmaown" kernel run -k 6.1 qemu-arm64-iort "$tmp/ls.sh" >"$tmp/out" 2>&1
st=$?
if [ $st -eq 2 ] && grep -q "no kernel at $tmp/none/6.1.0-57-arm64/boot/vmlinuz-6.1.0-57-arm64: fetch the pinned 6.1 (linux-image-6.1.0-57-arm64-unsigned 6.1.192-3)" "$tmp/out"; then
	ok "an arm64 twin takes the pinned line's arm64 kernel"
else
	echo "exit $st" >>"$tmp/out"
	not_ok "an arm64 twin takes the pinned line's arm64 kernel"
fi

# Bus numbers the machine chose otherwise: SeaBIOS numbers depth first,
# so the switch below the second root port gets buses 2-3, and the NIC
# behind the first root port bus 1.
cat >"$tmp/renumber.machine" <<'EOF'
machine renumber
firmware x86
default-domain DMA
iommu dmar0
pci 0000:00:01.0 1b36:000c class=060400 type=root-port iommu=dmar0 acs-cap=sv,tb,rr,cr,uf,dt
pci 0000:00:02.0 1b36:000c class=060400 type=root-port iommu=dmar0 acs-cap=sv,tb,rr,cr,uf,dt
pci 0000:20:00.0 104c:8232 class=060400 type=upstream parent=0000:00:02.0 iommu=dmar0
pci 0000:21:03.0 104c:8233 class=060400 type=downstream parent=0000:20:00.0 iommu=dmar0
pci 0000:30:00.0 8086:10d3 class=020000 parent=0000:00:01.0 iommu=dmar0
pci 0000:22:00.0 8086:10d3 class=020000 parent=0000:21:03.0 iommu=dmar0
driver e1000e
EOF
"$dmaown" kernel twin "$tmp/renumber.machine" >"$tmp/out" 2>&1
if grep -q '^0000:30:00.0 -> 0000:01:00.0  e1000e  (renumbered)$' "$tmp/out" &&
   grep -q '^0000:20:00.0 -> 0000:02:00.0  x3130-upstream  (renumbered)$' "$tmp/out" &&
   grep -q '^0000:21:03.0 -> 0000:03:03.0  xio3130-downstream  (renumbered)$' "$tmp/out" &&
   grep -q '^0000:22:00.0 -> 0000:04:00.0  e1000e  (renumbered)$' "$tmp/out" &&
   grep -q 'adds the q35 host bridge at 0000:00:00.0' "$tmp/out" &&
   grep -q 'e1000e,id=d05,bus=d03,addr=00.0 ' "$tmp/out"; then
	ok "buses are renumbered as SeaBIOS numbers them, and the mapping printed"
else
	not_ok "buses are renumbered as SeaBIOS numbers them, and the mapping printed"
fi

# refuse NAME MACHINE TEXT: 'kernel twin' fails (2) and says TEXT.
refuse() {
	"$dmaown" kernel twin "$2" >"$tmp/out" 2>&1
	st=$?
	if [ $st -eq 2 ] && grep -q "no QEMU twin: .*$3" "$tmp/out"; then
		ok "refused: $1"
	else
		echo "exit $st" >>"$tmp/out"
		not_ok "refused: $1"
	fi
}
refuse "an Intel desktop's ids" x86-desktop "is the q35 host bridge in QEMU's q35 (8086:29c0), not 8086:3e30"
refuse "a device-tree SoC's platform devices" arm64-soc "platform devices: QEMU 7.2 has no free platform bus"
sed 's/^groups check$/acs-request yes/' "$dir/../../machines/qemu-arm64-smmuv3.machine" >"$tmp/dtacs.machine"
refuse "ACS requested in time on device tree" "$tmp/dtacs.machine" "'acs-request yes' has no twin"
sed 's/^default-domain DMA$/default-domain DMA-FQ/' "$dir/../../machines/qemu-arm64-iort.machine" >"$tmp/a64fq.machine"
refuse "DMA-FQ on arm64, which Debian builds strict" "$tmp/a64fq.machine" "IOMMU_DEFAULT_DMA_STRICT"
# QEMU's pcie-pci-bridge always has an SHPC; shpchp is built in
sed 's/ shpc group=/ group=/' "$dir/../../machines/qemu-arm64-smmuv3.machine" >"$tmp/noshpc.machine"
refuse "an arm64 twin's bridge without shpc" "$tmp/noshpc.machine" "0000:07:00.0: QEMU's pcie-pci-bridge has an SHPC"
sed -e 's/\(type=pci-bridge .*\)$/\1 shpc/' -e 's/^driver pcieport$/driver pcieport\ndriver shpchp/' \
	"$dir/../../machines/qemu-x86-vtd.machine" >"$tmp/x86shpc.machine"
refuse "shpchp on q35's bridge, whose probe fails there" "$tmp/x86shpc.machine" "fails on q35 (-16)"
sed 's/^default-domain DMA$//' "$tmp/renumber.machine" >"$tmp/fq.machine"
refuse "DMA-FQ, which caching mode makes strict" "$tmp/fq.machine" "default domains are DMA"
sed 's/acs-cap=sv,tb,rr,cr,uf,dt$/acs-cap=sv,rr,cr,uf/' "$tmp/renumber.machine" >"$tmp/acs.machine"
refuse "ACS QEMU's root port does not have" "$tmp/acs.machine" "has ACS capability 'sv,tb,rr,cr,uf,dt', the machine says 'sv,rr,cr,uf'"

# kernel run: a line with no real-kernel form is refused before a boot.
printf 'sudo modprobe vfio-pci\n@fault probe e1000e ENOMEM\n' >"$tmp/fault.sh"
DMAOWN_KERNELS=$tmp/none "$dmaown" kernel run qemu-x86-vtd "$tmp/fault.sh" >"$tmp/out" 2>&1
st=$?
if [ $st -eq 2 ] && grep -q "fault.sh:2: '@fault' has no real-kernel form" "$tmp/out" &&
   ! grep -q "no kernel at" "$tmp/out"; then
	ok "kernel run refuses @fault before booting"
else
	echo "exit $st" >>"$tmp/out"
	not_ok "kernel run refuses @fault before booting"
fi

# The diff engine on what the real 6.12 guest printed for vfio-claim.sh.
c=$dir/canned
# agrees GUEST EXPLAINED WHAT: the model's vfio-claim.sh against GUEST: no
# difference, EXPLAINED lines explained
agrees() {
	"$dmaown" kernel diff-json qemu-x86-vtd "$c/vfio-claim.model.jsonl" \
		"$1" >"$tmp/out" 2>&1
	st=$?
	if [ $st -eq 0 ] && grep -q "^17 lines compared, 0 differences, $2 explained" "$tmp/out"; then
		ok "$3"
	else
		echo "exit $st" >>"$tmp/out"
		not_ok "$3"
	fi
}
agrees "$c/vfio-claim.guest-6.12.jsonl" 2 "diff: the model and 6.12 agree on vfio-claim.sh"

# The TCG guest's own noise under load is explained, not a difference:
# the clocksource watchdog's slow read and the random pool's late start.
sed -e '/"line":9,/s/"log":\[\]/"log":["[    9.1] clocksource: Long readout interval, skipping watchdog check: cs_nsec: 1462991390 wd_nsec: 1462989710","[    9.2] random: crng init done","[    9.3] clocksource: wd-tsc-wd read-back delay of 8130060ns, clock-skew test skipped!"]/' \
    "$c/vfio-claim.guest-6.12.jsonl" >"$tmp/noise.jsonl"
agrees "$tmp/noise.jsonl" 5 "diff: a TCG guest's timer and entropy lines are explained"

# Planted differences, each found and named: an errno and status, an
# unexplained log line, a WARN, a driver and a group's members at the end.
sed -e '/"line":15,/s/"ret":"ENODEV","status":1/"ret":"EBUSY","status":1/' \
    -e '/"line":15,/s/No such device/Device or resource busy/' \
    -e '/"line":9,/s/"log":\[\]/"log":["[    9.1] vfio-pci 0000:01:00.0: surprise"]/' \
    -e '/"line":12,/s/"warn":\[\]/"warn":[{"file":"drivers\/iommu\/iommu.c","upstream_line":3157,"func":"iommu_device_unuse_default_domain","pid":1,"comm":"","trace":[]}]/' \
    -e '/"state":"end"/s/"0000:05:00.0","bus":"pci","driver":"e1000e","group":9/"0000:05:00.0","bus":"pci","driver":null,"group":9/' \
    -e '/"state":"end"/s/{"id":8,"devices":\["0000:03:00.0","0000:04:00.0"\]/{"id":8,"devices":["0000:04:00.0"]/' \
    "$c/vfio-claim.guest-6.12.jsonl" >"$tmp/planted.jsonl"
"$dmaown" kernel diff-json qemu-x86-vtd "$c/vfio-claim.model.jsonl" \
	"$tmp/planted.jsonl" >"$tmp/out" 2>&1
st=$?
if [ $st -eq 1 ] &&
   grep -q '^line 15: ret: model "ENODEV", kernel "EBUSY"$' "$tmp/out" &&
   grep -q '^line 15: err: model "bash: echo: write error: No such device\\n", kernel "bash: echo: write error: Device or resource busy\\n"$' "$tmp/out" &&
   grep -q '^line 9: log: only the kernel says: "vfio-pci 0000:01:00.0: surprise"$' "$tmp/out" &&
   grep -q '^line 12: WARN: model none, kernel iommu_device_unuse_default_domain$' "$tmp/out" &&
   grep -q '^end: 0000:05:00.0: driver: model e1000e, kernel none$' "$tmp/out" &&
   grep -q '^end: group 8: model {0000:03:00.0 0000:04:00.0}, kernel {0000:04:00.0}$' "$tmp/out" &&
   grep -q '^6 unexplained differences$' "$tmp/out"; then
	ok "diff: each planted difference is found and named"
else
	echo "exit $st" >>"$tmp/out"
	not_ok "diff: each planted difference is found and named"
fi

# The model today against what the real arm64 kernels printed (canned,
# tests/kernel/canned/*.guest-*.jsonl): the seed on the ACPI/IORT twin
# (6.12), and the bridge on the device-tree twin (6.1), where arm-smmu-v3
# refuses the second e1000 a group and shpchp keeps the bridge's group
# from being viable. The model's side runs now, so a change in the model
# that the kernel would not make fails here without QEMU.
canned() { # canned MACHINE KERNEL SCRIPT GUEST EXPLAINED
	"$dmaown" run --json --show --kernel "$2" -m "$1" "$3" >"$tmp/model.jsonl" 2>&1
	"$dmaown" kernel diff-json "$1" "$tmp/model.jsonl" "$4" >"$tmp/out" 2>&1
	st=$?
	if [ $st -eq 0 ] && grep -q "^[0-9]* lines compared, 0 differences, $5 explained" "$tmp/out"; then
		ok "diff: the model and arm64 $2 agree on $(basename "$3") ($1)"
	else
		echo "exit $st" >>"$tmp/out"
		not_ok "diff: the model and arm64 $2 agree on $(basename "$3") ($1)"
	fi
}
canned qemu-arm64-iort 6.12 "$dir/qemu-arm64-iort/02-seed.sh" \
	"$c/seed.guest-iort-6.12.jsonl" 3
canned qemu-arm64-smmuv3 6.1 "$dir/qemu-arm64-smmuv3/03-bridge-shpchp.sh" \
	"$c/bridge-shpchp.guest-smmuv3-6.1.jsonl" 1

# The x86 scenarios for an arm64 twin (scripts/port-kernel-scenarios): each
# group number a line names goes through the twin's x86.map once (on
# ACPI 9 -> 6, not 9 -> 6 -> 8), driver links become ls -d on device
# tree, and the groups and bridge scenarios stay the twin's own.
"$dir/../../scripts/port-kernel-scenarios" "$dir/qemu-arm64-smmuv3" "$tmp/port" >"$tmp/ported" 2>"$tmp/out"
st=$?
"$dir/../../scripts/port-kernel-scenarios" "$dir/qemu-arm64-iort" "$tmp/porti" >/dev/null 2>>"$tmp/out" || st=1
p=$tmp/port
# every x86 scenario but the two each twin has its own of
nx86=$(($(ls "$dir"/[0-9]*.sh | wc -l) - 2))
if [ $st -eq 0 ] && [ "$(wc -l <"$tmp/ported")" -eq "$nx86" ] && [ "$nx86" -ge 9 ] &&
   [ ! -e "$p/01-x86-groups.sh" ] && [ ! -e "$p/07-x86-bridge-group.sh" ] &&
   grep -qx '@vfio open 1' "$p/06-x86-dev-vfio-node.sh" &&
   grep -qx '@vfio open 6' "$tmp/porti/06-x86-dev-vfio-node.sh" &&
   grep -qx '@vfio status 9' "$tmp/porti/02-x86-multifunction-viable.sh" &&
   grep -qx '@vfio set-container 2 0' "$p/02-x86-multifunction-viable.sh" &&
   grep -qx 'ls /sys/kernel/iommu_groups/1/devices' "$p/08-x86-switch-port-group.sh" &&
   grep -qx 'ls -d /sys/bus/pci/devices/0000:01:00.0/driver/0000:01:00.0' "$p/04-x86-driver-override.sh" &&
   grep -qx '# machine: qemu-arm64-smmuv3' "$p/05-x86-new-id.sh" &&
   ! grep -q 'machine: qemu-x86-vtd\|readlink .*/driver$' "$p"/*.sh; then
	ok "the x86 scenarios are ported to an arm64 twin's group numbers"
else
	echo "exit $st" >>"$tmp/out"
	not_ok "the x86 scenarios are ported to an arm64 twin's group numbers"
fi

# Log lines compare without their time, addresses and PIDs: a line the
# two sides print with other numbers there is no difference.
sed '/"line":13,/s/"log":\[\]/"log":["[    0.5] vfio-pci 0000:01:00.0: task \\"tee\\" (1013) at 0x0"]/' \
	"$c/vfio-claim.model.jsonl" >"$tmp/model-pid.jsonl"
sed '/"line":13,/s/"log":\[\]/"log":["[   12.345678] vfio-pci 0000:01:00.0: task \\"tee\\" (245) at 0xffffffffc0a01234"]/' \
	"$c/vfio-claim.guest-6.12.jsonl" >"$tmp/guest-pid.jsonl"
"$dmaown" kernel diff-json qemu-x86-vtd "$tmp/model-pid.jsonl" \
	"$tmp/guest-pid.jsonl" >"$tmp/out" 2>&1
st=$?
if [ $st -eq 0 ] && grep -q '^17 lines compared, 0 differences' "$tmp/out" &&
   grep -q 'task' "$tmp/model-pid.jsonl" && grep -q '(245)' "$tmp/guest-pid.jsonl"; then
	ok "diff: log lines compare without time, addresses and PIDs"
else
	echo "exit $st" >>"$tmp/out"
	not_ok "diff: log lines compare without time, addresses and PIDs"
fi

# The batch protocol (several scenarios in one boot, docs/oracle.md) on
# the real guest's output for vfio-claim.sh, as a batch would frame it:
# each scenario between {"scenario":N} and {"scenario_done":N,...}, its
# lines numbered from 1, the boot state and {"done":true} in no scenario.
g=$c/vfio-claim.guest-6.12.jsonl
batch() { # batch DIRTY2: two scenarios, the second with a planted errno
	head -1 "$g"
	echo '{"scenario":1}'
	sed -n '2,19p' "$g"
	echo '{"scenario_done":1,"clean":true}'
	echo '{"scenario":2}'
	sed -n '2,19p' "$g" | sed '/"line":15,/s/"ret":"ENODEV"/"ret":"EBUSY"/'
	if [ "$1" = dirty ]; then
		echo '{"scenario_done":2,"clean":false,"dirty":"boot had '"'"'device 0000:01:00.0 driver e1000e group 6 driver_override (null)'"'"'"}'
	else
		echo '{"scenario_done":2,"clean":true}'
	fi
	tail -1 "$g"
}
batch clean >"$tmp/batch.jsonl"
m=$c/vfio-claim.model.jsonl
"$dmaown" kernel diff-json qemu-x86-vtd "$m" "$m" "$tmp/batch.jsonl" >"$tmp/out" 2>&1
st=$?
if [ $st -eq 1 ] &&
   grep -q "^scenario $m: 0 unexplained differences$" "$tmp/out" &&
   grep -q "^scenario $m: 1 unexplained difference$" "$tmp/out" &&
   [ "$(grep -c '^17 lines compared' "$tmp/out")" = 2 ] &&
   grep -q '^line 15: ret: model "ENODEV", kernel "EBUSY"$' "$tmp/out" &&
   ! grep -q "not boot's\|not in this output" "$tmp/out" &&
   grep -q '^1 unexplained difference$' "$tmp/out"; then
	ok "batch: the guest's output splits into scenarios at the separators"
else
	echo "exit $st" >>"$tmp/out"
	not_ok "batch: the guest's output splits into scenarios at the separators"
fi

# A scenario that leaves the state unlike boot's ends the batch: it is
# named with what changed, and the scenarios after it are not taken from
# this boot (kernel diff boots again for them).
batch dirty >"$tmp/batch.jsonl"
"$dmaown" kernel diff-json qemu-x86-vtd "$m" "$m" "$m" "$tmp/batch.jsonl" >"$tmp/out" 2>&1
st=$?
if [ $st -eq 1 ] &&
   grep -q "^the state after $m was not boot's (boot had 'device 0000:01:00.0 driver e1000e group 6 driver_override (null)'): the rest need a fresh boot$" "$tmp/out" &&
   [ "$(grep -c "^scenario $m: " "$tmp/out")" = 2 ] &&
   grep -q '^1 scenario not in this output$' "$tmp/out"; then
	ok "batch: a scenario that leaves the state dirty ends the batch"
else
	echo "exit $st" >>"$tmp/out"
	not_ok "batch: a scenario that leaves the state dirty ends the batch"
fi

[ "$fails" = 0 ]
