# Resets and ownership: a two-port NIC's hot reset (v6.6).
# From: issue 11 item 12; drivers/pci/pci.c and
# drivers/vfio/pci/vfio_pci_core.c of v6.6.
# Kernel (v6.6): the 82599 pair 0000:18:00.0/0000:18:00.1 shares group 9,
# on the bus below the root port 0000:17:00.0. The first function was alone
# on that bus when it was found, so it can be reset by a bus reset
# (reset_method: bus); the second has no method and no reset_method file.
# A hot reset resets the whole bus, so vfio-pci allows it only when every
# device on it is a vfio-pci device and the caller owns them all: through
# the group, by passing the group files (VFIO_DEVICE_PCI_HOT_RESET with no
# group is EINVAL there); through the cdev, by having them bound to its
# iommufd, or in a group a device bound to it holds (then no group is
# passed, and passing one is EINVAL). A function left on no driver is in
# no device set: EINVAL.
# machine: x86-server
sudo modprobe vfio-pci
cat /sys/bus/pci/devices/0000:18:00.0/reset_method
ls /sys/bus/pci/devices/0000:18:00.1/reset_method
echo vfio-pci > /sys/bus/pci/devices/0000:18:00.0/driver_override
echo vfio-pci > /sys/bus/pci/devices/0000:18:00.1/driver_override
echo 0000:18:00.0 > /sys/bus/pci/drivers/ixgbe/unbind
echo 0000:18:00.1 > /sys/bus/pci/drivers/ixgbe/unbind
echo 0000:18:00.0 > /sys/bus/pci/drivers_probe
echo 0000:18:00.1 > /sys/bus/pci/drivers_probe
# Through the group: QEMU holds /dev/vfio/9 and the device.
@vmm assign 0000:18:00.0
@vfio hot-reset-info 0000:18:00.0
@vfio hot-reset 0000:18:00.0
@vfio hot-reset 0000:18:00.0 9
echo 0000:18:00.1 > /sys/bus/pci/drivers/vfio-pci/unbind
@vfio hot-reset 0000:18:00.0 9
echo 0000:18:00.1 > /sys/bus/pci/drivers/vfio-pci/bind
@vmm release 0000:18:00.0
# Through the cdev: the sibling is owned through the group.
@iommufd open
@vfio cdev-open 0000:18:00.0
@vfio hot-reset-info 0000:18:00.0
@vfio bind-iommufd 0000:18:00.0 0
@vfio hot-reset-info 0000:18:00.0
@vfio hot-reset 0000:18:00.0 9
@vfio hot-reset 0000:18:00.0
@vfio device-close 0000:18:00.0
@iommufd close 0
