#!/bin/sh
# The differential corpus without QEMU (scripts/kernel-corpus,
# docs/oracle.md "The corpus"): dmaown-walk's --kernel-scripts are
# deterministic, made only of lines with a real-kernel form, and replay on
# the model; the corpus's dry run lists every example (run, ported or
# refused with a reason) and writes random topologies that load in the
# model and have a QEMU twin; a saved boot of a random topology (the real
# 6.12 kernel's @sysfs-dump of its /sys, tests/kernel/canned/) imports to
# the kernel's groups, and a planted group difference is found. TAP output.
#
# usage: kernel-corpus.sh SOURCE_DIR BUILD_DIR
set -u

src=$1
build=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kernel-corpus.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
walk=$build/tests/dmaown-walk
corpus=$src/scripts/kernel-corpus
canned=$src/tests/kernel/canned
export BUILD="$build"

echo "1..11"
# shellcheck source=tests/cli/tap.sh
. "$(dirname "$0")/tap.sh"

"$walk" --seed 7 --kernel-scripts 20 --length 16 >"$tmp/a" 2>"$tmp/out"
"$walk" --seed 7 --kernel-scripts 20 --length 16 >"$tmp/b" 2>>"$tmp/out"
"$walk" --seed 8 --kernel-scripts 20 --length 16 >"$tmp/c" 2>>"$tmp/out"
if [ "$(grep -c '^# dmaown-walk: kernel script' "$tmp/a")" = 20 ] &&
   cmp -s "$tmp/a" "$tmp/b" && ! cmp -s "$tmp/a" "$tmp/c"; then
	ok "--kernel-scripts: 20 walks, the same for the same seed, others for another"
else
	not_ok "--kernel-scripts: 20 walks, the same for the same seed, others for another"
fi

# what the guest cannot do: the model's own verbs, iommufd and the cdev,
# and removals a batch cannot undo
if grep -v '^#' "$tmp/a" | grep -E '@(as|fault|iommufd|iommu|hotplug|exit|close|concurrent)|cdev|bind-iommufd|ioas|hot-reset|/remove|/rescan|ulimit' >"$tmp/out"; then
	not_ok "--kernel-scripts: only lines with a real-kernel form"
else
	ok "--kernel-scripts: only lines with a real-kernel form"
fi

# some walks reach VFIO, so the corpus exercises more than sysfs writes
if grep -q '^@v' "$tmp/a" && grep -q 'modprobe vfio-pci' "$tmp/a"; then
	ok "--kernel-scripts: the walks reach vfio-pci and the @vfio/@vmm verbs"
else
	grep -c . "$tmp/a" >"$tmp/out"
	not_ok "--kernel-scripts: the walks reach vfio-pci and the @vfio/@vmm verbs"
fi

# each replays on the model: no line refused as bad input (exit 2)
awk -v d="$tmp" '/^# dmaown-walk: kernel script/{n++; f=sprintf("%s/w%03d.sh", d, n)} {print > f}' "$tmp/a"
: >"$tmp/out"
for f in "$tmp"/w*.sh; do
	"$build/dmaown" run -m qemu-x86-vtd "$f" >/dev/null 2>"$tmp/err"
	[ $? = 2 ] && { echo "$f:"; cat "$f" "$tmp/err"; } >>"$tmp/out"
done
if [ -s "$tmp/out" ]; then
	not_ok "--kernel-scripts: every walk replays on the model"
else
	ok "--kernel-scripts: every walk replays on the model"
fi

# the dry run: no boot, every example accounted for, topologies checked
if "$corpus" --dry-run --parts examples,walks,topologies --kernels 6.12 --topologies 20 --walks 3 --out "$tmp/dry" >"$tmp/dryrun" 2>&1; then
	cp "$tmp/dryrun" "$tmp/out"
	nex=$(ls "$src"/examples/*.sh | wc -l)
	if grep -q "examples: $nex in all: " "$tmp/dryrun" &&
	   [ "$(grep -c '^kernel-corpus:   \(ported\|refused\) ' "$tmp/dryrun")" = "$nex" ] &&
	   grep -q 'ported   05-pci-stub.sh  *tests/kernel/12-pci-stub.sh' "$tmp/dryrun" &&
	   grep -q 'ported   01-seed.sh  *tests/kernel/qemu-arm64-iort/02-seed.sh tests/kernel/qemu-arm64-smmuv3/02-seed.sh ' "$tmp/dryrun" &&
	   ! grep -q 'no port: ?' "$tmp/dryrun"; then
		ok "dry run: every example run, ported or refused with the reason"
	else
		not_ok "dry run: every example run, ported or refused with the reason"
	fi
	if [ "$(ls "$tmp/dry"/topo-1-*.machine | wc -l)" = 20 ]; then
		ok "dry run: 20 random topologies that load in the model and have a twin"
	else
		not_ok "dry run: 20 random topologies that load in the model and have a twin"
	fi
else
	cp "$tmp/dryrun" "$tmp/out"
	not_ok "dry run: every example run, ported or refused with the reason"
	not_ok "dry run: 20 random topologies that load in the model and have a twin"
fi

# a saved boot: the kernel's groups, the model's, the imported /sys's
if "$corpus" --import-dump "$canned/topo-1-3.machine" "$canned/topo-1-3.guest-6.12.jsonl" \
	--out "$tmp/imp" >"$tmp/out" 2>&1 &&
   grep -q 'topo-1-3.machine: 22 devices, 13 groups, .* 0 unexplained differences' "$tmp/out" &&
   grep -q 'groups labels' "$tmp/imp/topo-1-3.guest-6.12.imported.machine"; then
	ok "saved 6.12 boot of a random topology: model, kernel and imported groups agree"
else
	not_ok "saved 6.12 boot of a random topology: model, kernel and imported groups agree"
fi

# planted: the kernel put 02:04.0 (behind the PCIe-to-PCI bridge) alone
sed 's/"name":"0000:02:04.0","bus":"pci","driver":"e1000","group":6/"name":"0000:02:04.0","bus":"pci","driver":"e1000","group":99/' \
	"$canned/topo-1-3.guest-6.12.jsonl" >"$tmp/planted.jsonl"
"$corpus" --import-dump "$canned/topo-1-3.machine" "$tmp/planted.jsonl" --out "$tmp/pl" >"$tmp/out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q "DIFFERENCE: .*model's computed groups" "$tmp/out"; then
	ok "a planted group difference is found"
else
	echo "rc $rc" >>"$tmp/out"
	not_ok "a planted group difference is found"
fi

# found by the corpus (a mutant's teardown removes every device): a
# device removed on both sides is no difference at the end
cat >"$tmp/rm.sh" <<'EOS'
# machine: qemu-x86-vtd
echo 1 > /sys/bus/pci/devices/0000:08:02.0/remove
readlink /sys/bus/pci/devices/0000:08:01.0/driver
EOS
"$build/dmaown" run --json --show "$tmp/rm.sh" >"$tmp/rm.model.jsonl" 2>"$tmp/out"
sed '$ s/^{"version":1,/{"version":1,"state":"end",/' "$tmp/rm.model.jsonl" >"$tmp/rm.guest.jsonl"
if "$build/dmaown" kernel diff-json qemu-x86-vtd "$tmp/rm.model.jsonl" "$tmp/rm.guest.jsonl" >"$tmp/out" 2>&1 &&
   grep -q '^0 unexplained differences' "$tmp/out"; then
	ok "a device removed on both sides is no difference"
else
	not_ok "a device removed on both sides is no difference"
fi

# rmmod of pcieport, built into every kernel, is an explained difference:
# the model unloads it (its catalogue's drivers are all modules)
cat >"$tmp/rmmod.sh" <<'EOS'
# machine: qemu-x86-vtd
rmmod pcieport
EOS
"$build/dmaown" run --json --show "$tmp/rmmod.sh" >"$tmp/rmmod.model.jsonl" 2>"$tmp/out"
sed -e '$ s/^{"version":1,/{"version":1,"state":"end",/' \
    -e '1 s/"ret":"0","status":0,"out":"","err":""/"ret":"0","status":1,"out":"","err":"rmmod: ERROR: Module pcieport is builtin.\\n"/' \
	"$tmp/rmmod.model.jsonl" >"$tmp/rmmod.guest.jsonl"
"$build/dmaown" kernel diff-json qemu-x86-vtd "$tmp/rmmod.model.jsonl" "$tmp/rmmod.guest.jsonl" >"$tmp/out" 2>&1
if grep -q 'status":1' "$tmp/rmmod.guest.jsonl" &&
   grep -q '0 differences, 1 explained' "$tmp/out"; then
	ok "rmmod pcieport: the built-in driver's refusal is explained"
else
	not_ok "rmmod pcieport: the built-in driver's refusal is explained"
fi

# found by the corpus's walks: the real kernel refuses to unload vfio-pci
# while a device of it is open (vfio_df_device_first_open() takes
# try_module_get() of the driver's owner; delete_module() with O_NONBLOCK
# then fails in try_stop_module(): EWOULDBLOCK, kmod's "is in use"), and
# unloads it once the VMM lets go
cat >"$tmp/inuse.sh" <<'EOS'
# machine: qemu-x86-vtd
modprobe vfio-pci
echo 0000:01:00.0 > /sys/bus/pci/drivers/e1000e/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:01:00.0/driver_override
echo 0000:01:00.0 > /sys/bus/pci/drivers_probe
@vmm assign 0000:01:00.0
rmmod vfio-pci
modprobe -r vfio-pci
readlink /sys/bus/pci/devices/0000:01:00.0/driver
@vmm release 0000:01:00.0
rmmod vfio-pci
readlink /sys/bus/pci/devices/0000:01:00.0/driver
EOS
"$build/dmaown" run --json "$tmp/inuse.sh" >"$tmp/inuse.jsonl" 2>"$tmp/out"
if grep -q '"line":7,"cmd":"rmmod vfio-pci","ret":"EAGAIN","status":1,"out":"","err":"rmmod: ERROR: Module vfio_pci is in use\\n"' "$tmp/inuse.jsonl" &&
   grep -q '"line":8,.*"ret":"EAGAIN","status":1,.*Module vfio_pci is in use\.' "$tmp/inuse.jsonl" &&
   grep -q '"line":9,.*"out":"[./]*bus/pci/drivers/vfio-pci\\n"' "$tmp/inuse.jsonl" &&
   grep -q '"line":11,"cmd":"rmmod vfio-pci","ret":"0","status":0' "$tmp/inuse.jsonl" &&
   grep -q '"line":12,.*"status":1' "$tmp/inuse.jsonl"; then
	ok "rmmod of vfio-pci with a device open: in use (EAGAIN), then unloads"
else
	cat "$tmp/inuse.jsonl" >>"$tmp/out"
	not_ok "rmmod of vfio-pci with a device open: in use (EAGAIN), then unloads"
fi

[ "$fails" = 0 ]
