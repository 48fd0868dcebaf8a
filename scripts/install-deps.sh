#!/bin/sh
# Installs the Debian 12 packages that building and testing dmaown need.
# Run as root (or through sudo). Safe to run again.
set -eu

# libpci-dev and pci.ids: dmaown import reads lspci dumps and sysfs config
# space through libpci (docs/import.md).
# clang and libclang-rt-14-dev (libFuzzer and the sanitizer runtimes)
# build the fuzz targets (docs/testing.md).
# libfuse3-dev and fuse3 serve 'dmaown mount' and 'dmaown shell'; pciutils,
# driverctl and dpdk (dpdk-devbind.py) are the real clients their tests run.
# kmod: 'dmaown shell' binds its modprobe, rmmod and lsmod over kmod's, which
# driverctl and dpdk-devbind.py call by path; without kmod there is nothing
# to bind over (driverctl only recommends it: a minimal Debian 12 lacks it).
# graphviz (dot) draws 'dmaown show --svg|--png' (docs/pictures.md); gnuplot-nox
# draws the benchmarks' figures (bench/bench-plots.sh); python3 runs
# scripts/kernel-corpus (meson needs it anyway).
# slurm-wlm and munge: tests/cli/slurm-array.sh starts a one-node Slurm of
# its own (its own slurm.conf, munge key and socket, in namespaces of its
# own; iproute2's ip brings up their loopback). Installing them starts no
# Slurm daemon: systemd's units wait for /etc/slurm/slurm.conf, which this
# does not write; the system munged may start, on its own socket and key.
# gcc-aarch64-linux-gnu and libc6-dev-arm64-cross cross-build the static
# guest helper of the arm64 QEMU twins (dmaown-guest-arm64, docs/oracle.md);
# scripts/test-kernel installs QEMU itself when it runs.
# libmimalloc-dev: release builds link mimalloc as the executable's malloc
# (meson option 'allocator'; the checker allocates hard, docs/performance.md).
PACKAGES="gcc libc6-dev meson ninja-build pkg-config libcmocka-dev valgrind
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	clang libclang-rt-14-dev scdoc man-db groff-base
	libfuse3-dev fuse3 pciutils driverctl dpdk kmod libpci-dev pci.ids graphviz
	slurm-wlm munge iproute2 gnuplot-nox python3 libmimalloc-dev"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
