# S13. A VMM still holds the group while an admin rebinds the host driver.
# From: shared/spec/scenarios.md S13 (SPDK-style teardown: setup.sh reset
# while an SPDK app still runs).
# Kernel: the NVMe 0000:65:00.0 (group 12) is on vfio-pci and a running
# process (here a QEMU-like VMM) has claimed its group. While the group is
# claimed, a bind of nvme fails with EBUSY (the device is still on vfio-pci,
# and its group is owned by userspace). The unbind from vfio-pci
# succeeds only once the process lets go of the device: the kernel asks
# userspace to release it ("vfio-pci 0000:65:00.0: Relaying device request
# to user (#0)"); dmaown's userspace complies at once. After the process
# closes the group, the same bind succeeds. (Since the group's last vfio
# device went with the unbind, v6.6's vfio_device_remove_group() has already
# detached the container and given DMA ownership back; the process's
# closing of its group and container files must succeed quietly.)
# machine: x86-server
sudo modprobe vfio-pci
echo vfio-pci > /sys/bus/pci/devices/0000:65:00.0/driver_override
echo 0000:65:00.0 > /sys/bus/pci/drivers/nvme/unbind
echo 0000:65:00.0 > /sys/bus/pci/drivers_probe
@vmm assign 0000:65:00.0
@vfio status 12
# setup.sh reset: clear the override, try the host driver.
echo > /sys/bus/pci/devices/0000:65:00.0/driver_override
echo 0000:65:00.0 > /sys/bus/pci/drivers/nvme/bind
echo 0000:65:00.0 > /sys/bus/pci/drivers/vfio-pci/unbind
readlink /sys/bus/pci/devices/0000:65:00.0/driver
# The process closes the group (and its container).
@vmm release 0000:65:00.0
echo 0000:65:00.0 > /sys/bus/pci/drivers/nvme/bind
readlink /sys/bus/pci/devices/0000:65:00.0/driver
