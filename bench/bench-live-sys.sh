#!/bin/bash
# bench-live-sys.sh DMAOWN [MACHINE] - the cost of a live /sys (dmaown
# mount, docs/live-sys.md): sysfs reads a second through FUSE, and lspci
# -nnk over the mount against lspci -nnk over this machine's real /sys,
# per device (the machines differ in size). Needs root and /dev/fuse.
set -eu
dmaown=$1
machine=${2:-x86-server}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-live.XXXXXX")
mnt=$tmp/mnt
mkdir "$mnt"
"$dmaown" mount "$machine" "$mnt" >/dev/null 2>&1 &
pid=$!
trap 'fusermount3 -u "$mnt" 2>/dev/null; wait $pid; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do [ -d "$mnt/sys/bus" ] && break; sleep 0.05; done
S=$mnt/sys

dev=$(ls "$S/bus/pci/devices" | head -1)
read -r opens reads < <(python3 - "$S/bus/pci/devices/$dev/vendor" <<'PY'
import os, sys, time
path = sys.argv[1]
n = 0
t0 = time.perf_counter()
while time.perf_counter() - t0 < 2.0:
    with open(path, "rb") as f:
        f.read()
    n += 1
opens = int(n / (time.perf_counter() - t0))
fd = os.open(path, os.O_RDONLY)
n = 0
t0 = time.perf_counter()
while time.perf_counter() - t0 < 2.0:
    os.pread(fd, 4096, 0)
    n += 1
print(opens, int(n / (time.perf_counter() - t0)))
PY
)
time_lspci() { # ARGS: seconds for 20 runs
	python3 - "$@" <<'PY'
import subprocess, sys, time
t0 = time.perf_counter()
for _ in range(20):
    subprocess.run(["lspci"] + sys.argv[1:], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
print("%.4f" % ((time.perf_counter() - t0) / 20))
PY
}
n_model=$(ls "$S/bus/pci/devices" | wc -l)
n_real=$(ls /sys/bus/pci/devices | wc -l)
t_model=$(time_lspci -O sysfs.path="$S/bus/pci" -nnk)
t_real=$(time_lspci -nnk)
echo "machine $machine: $n_model functions; this host: $n_real"
echo "sysfs reads through FUSE: $reads/s (read(2) of an open attribute)"
echo "open, read, close through FUSE: $opens/s (through the devices/ link)"
echo "lspci -nnk over the mount: $t_model s ($(python3 -c "print('%.2f' % ($t_model * 1000 / $n_model))") ms a function)"
echo "lspci -nnk over /sys:      $t_real s ($(python3 -c "print('%.2f' % ($t_real * 1000 / $n_real))") ms a function)"
echo "ratio per function: $(python3 -c "print('%.2f' % (($t_model / $n_model) / ($t_real / $n_real)))")"
