# S11. /dev/vfio/N comes and goes; one opener at a time.
# From: shared/spec/scenarios.md S11 (libvirt/chown and DPDK reports:
# "chown: cannot access '/dev/vfio/62'", "Failed to open /dev/vfio/20:
# [Errno 16] Device or resource busy").
# Kernel: /dev/vfio/9 (the 82599 pair's group) appears when the first
# function binds to vfio-pci and stays until the last one unbinds; then
# "ls: cannot access '/dev/vfio/9': No such file or directory" and an open
# fails with ENOENT. While the group is open a second open fails with EBUSY.
# vfio-pci refuses a bridge (the PEX downstream port 0000:03:01.0, a bridge
# header): "vfio-pci: probe of 0000:03:01.0 failed with error -22", and a
# direct bind fails with EINVAL.
# machine: x86-server
sudo modprobe vfio-pci
ls /dev/vfio
ls /dev/vfio/9
echo vfio-pci > /sys/bus/pci/devices/0000:18:00.0/driver_override
echo vfio-pci > /sys/bus/pci/devices/0000:18:00.1/driver_override
echo 0000:18:00.0 > /sys/bus/pci/drivers/ixgbe/unbind
echo 0000:18:00.0 > /sys/bus/pci/drivers_probe
ls /dev/vfio
# One opener at a time.
@vfio open 9
@vfio open 9
@vfio close 9
@vfio open 9
@vfio close 9
# The node stays while one function of the group is on vfio-pci.
echo 0000:18:00.1 > /sys/bus/pci/drivers/ixgbe/unbind
echo 0000:18:00.1 > /sys/bus/pci/drivers_probe
echo 0000:18:00.0 > /sys/bus/pci/drivers/vfio-pci/unbind
ls /dev/vfio
echo 0000:18:00.1 > /sys/bus/pci/drivers/vfio-pci/unbind
ls /dev/vfio/9
@vfio open 9
# Bridges are refused.
echo vfio-pci > /sys/bus/pci/devices/0000:03:01.0/driver_override
echo 0000:03:01.0 > /sys/bus/pci/drivers/pcieport/unbind
echo 0000:03:01.0 > /sys/bus/pci/drivers_probe
echo 0000:03:01.0 > /sys/bus/pci/drivers/vfio-pci/bind
readlink /sys/bus/pci/devices/0000:03:01.0/driver
ls /dev/vfio
