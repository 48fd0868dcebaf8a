# S9. A device with firmware direct-map regions (RMRR) (x86, v6.6+).
# From: shared/spec/scenarios.md S9 (reports of integrated USB controllers
# and GPUs that stopped passing through with v6.6).
# Kernel: the xHCI 0000:00:14.0 (group 3) has an RMRR, shown as a "direct"
# reserved region. vfio-pci binds it and the group is VIABLE, but claiming it
# for userspace would attach the blocking domain, which the device's 1:1
# mapping forbids: SET_CONTAINER fails with EINVAL and the kernel logs
# "Firmware has requested this device have a 1:1 IOMMU mapping, rejecting
# configuring the device without a 1:1 mapping. Contact your platform
# vendor."; QEMU reports "Failed to set group container: Invalid argument".
# The iommufd path (per-device claim) fails the same way. Nothing is left
# claimed: xhci_hcd binds back.
# machine: x86-desktop
sudo modprobe vfio-pci
cat /sys/kernel/iommu_groups/3/reserved_regions
ls /sys/kernel/iommu_groups/3/devices
echo 0000:00:14.0 > /sys/bus/pci/drivers/xhci_hcd/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:00:14.0/driver_override
echo 0000:00:14.0 > /sys/bus/pci/drivers_probe
readlink /sys/bus/pci/devices/0000:00:14.0/driver
@vmm assign 0000:00:14.0
# The same by hand: legacy container, then iommufd.
@vfio open 3
@vfio status 3
@vfio container-open
@vfio set-container 3 0
@vfio close 3
@vfio container-close 0
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
