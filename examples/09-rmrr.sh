# S9. A device with firmware direct-map regions (RMRR) (x86, v6.6+).
# From: shared/spec/scenarios.md S9 (reports of integrated USB controllers
# and GPUs with RMRRs that would not pass through).
# Kernel (v6.6): the xHCI 0000:00:14.0 (group 3) has an RMRR. The group's
# reserved_regions lists it with the IOAPIC/MSI range every device behind
# a VT-d unit has (intel_iommu_get_resv_regions()). Intel's driver reports
# the RMRR of a USB controller or a display device as "direct-relaxable"
# (device_rmrr_is_relaxable()), not "direct": only a direct region makes
# the device require 1:1 mappings (iommu_create_device_direct_mappings()),
# so the group can be claimed and QEMU takes the controller. The refusal S9
# describes, "Firmware has requested this device have a 1:1 IOMMU mapping,
# rejecting configuring the device without a 1:1 mapping. Contact your
# platform vendor." and EINVAL, is for a device with a direct region: any
# other device in an RMRR's scope, an AMD IVMD unity range, an IORT RMR
# (tests/unit/test-vfio.c resv_direct, test-topology.c resv_regions).
# The LPC bridge's group 8 has the floppy range Intel reserves for ISA
# bridges.
# machine: x86-desktop
sudo modprobe vfio-pci
cat /sys/kernel/iommu_groups/3/reserved_regions
ls /sys/kernel/iommu_groups/3/devices
cat /sys/kernel/iommu_groups/8/reserved_regions
echo 0000:00:14.0 > /sys/bus/pci/drivers/xhci_hcd/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:00:14.0/driver_override
echo 0000:00:14.0 > /sys/bus/pci/drivers_probe
readlink /sys/bus/pci/devices/0000:00:14.0/driver
@vmm assign 0000:00:14.0
@vmm release 0000:00:14.0
# The same through iommufd: the device is bound, its group claimed.
@iommufd open
@vfio cdev-open 0000:00:14.0
@vfio bind-iommufd 0000:00:14.0 0
@vfio device-close 0000:00:14.0
@iommufd close 0
# Back to the host driver.
echo > /sys/bus/pci/devices/0000:00:14.0/driver_override
echo 0000:00:14.0 > /sys/bus/pci/drivers/vfio-pci/unbind
echo 0000:00:14.0 > /sys/bus/pci/drivers_probe
readlink /sys/bus/pci/devices/0000:00:14.0/driver
