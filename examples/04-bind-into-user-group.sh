# S4. A kernel driver binds into a group userspace owns (the BUG_ON the
# series removed).
# From: shared/spec/scenarios.md S4.
# Kernel: both functions of group 1 on vfio-pci and the group claimed by a
# VMM. Moving 0000:01:00.1 back to snd_hda_intel: the unbind from vfio-pci is
# allowed (the VMM does not have that device open). Pre-5.19 the bind ended
# in "kernel BUG at drivers/vfio/vfio.c" (vfio_iommu_group_notifier); merged,
# pci_dma_configure() -> iommu_device_use_default_domain() returns -EBUSY,
# so the bind fails with "write error: Device or resource busy", the group
# stays owned and nothing crashes. drivers_probe meets the same -EBUSY and
# drivers_probe_store() reports any attach error as EINVAL. Once the VMM
# releases the group the same bind succeeds.
# machine: x86-desktop
sudo modprobe vfio-pci
echo 0000:01:00.0 > /sys/bus/pci/drivers/nouveau/unbind
echo 0000:01:00.1 > /sys/bus/pci/drivers/snd_hda_intel/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:01:00.0/driver_override
echo vfio-pci > /sys/bus/pci/devices/0000:01:00.1/driver_override
echo 0000:01:00.0 > /sys/bus/pci/drivers_probe
echo 0000:01:00.1 > /sys/bus/pci/drivers_probe
@vmm assign 0000:01:00.0
# The scenario's three lines.
echo > /sys/bus/pci/devices/0000:01:00.1/driver_override
echo 0000:01:00.1 > /sys/bus/pci/drivers/vfio-pci/unbind
echo 0000:01:00.1 > /sys/bus/pci/drivers/snd_hda_intel/bind
readlink /sys/bus/pci/devices/0000:01:00.1/driver
echo 0000:01:00.1 > /sys/bus/pci/drivers_probe
@vfio status 1
# The VMM lets go; the same bind now works.
@vmm release 0000:01:00.0
echo 0000:01:00.1 > /sys/bus/pci/drivers/snd_hda_intel/bind
readlink /sys/bus/pci/devices/0000:01:00.1/driver
