# S8. iommufd: two functions of one group, one VMM.
# From: shared/spec/scenarios.md S8; shared/spec/ownership.md section 5.
# Kernel (v6.6): the 82599 pair 0000:18:00.0/0000:18:00.1 shares group 9.
# While ixgbe still drives one function, binding the other to an iommufd
# fails with EPERM (a kernel driver in the group). With both functions on
# vfio-pci, opened through their vfio cdevs and bound to the same iommufd,
# iommu_device_claim_dma_owner() sees the same cookie: both binds succeed
# and share ownership, and both attach to one IOAS. A second iommufd
# (another VMM) binding a function of the group gets EPERM. The legacy path
# is kept out one step earlier: vfio_group_fops_open() refuses /dev/vfio/9
# with EBUSY while a device of the group is bound through its cdev
# (cdev_device_open_cnt), so SET_CONTAINER's EPERM is never reached. (The
# scenario text says the legacy container gets EPERM; upstream, as here,
# refuses the open with EBUSY first.) The other way round, the cdev opens
# while the group file is open (vfio_device_fops_cdev_open() checks
# nothing), and its bind fails with EBUSY (vfio_device_block_group()).
# Closing one device keeps the group owned (ixgbe cannot
# bind the sibling: EBUSY); closing the last gives the group back to its
# default domain and ixgbe binds again.
# machine: x86-server
sudo modprobe vfio-pci
ls /sys/kernel/iommu_groups/9/devices
echo vfio-pci > /sys/bus/pci/devices/0000:18:00.0/driver_override
echo 0000:18:00.0 > /sys/bus/pci/drivers/ixgbe/unbind
echo 0000:18:00.0 > /sys/bus/pci/drivers_probe
# ixgbe still drives 0000:18:00.1.
@iommufd open
@vfio cdev-open 0000:18:00.0
@vfio bind-iommufd 0000:18:00.0 0
@vfio device-close 0000:18:00.0
echo vfio-pci > /sys/bus/pci/devices/0000:18:00.1/driver_override
echo 0000:18:00.1 > /sys/bus/pci/drivers/ixgbe/unbind
echo 0000:18:00.1 > /sys/bus/pci/drivers_probe
# A legacy container user holds the group: the cdev opens, but cannot bind.
@vfio open 9
@vfio container-open
@vfio set-container 9 0
@vfio cdev-open 0000:18:00.0
@vfio bind-iommufd 0000:18:00.0 0
@vfio device-close 0000:18:00.0
@vfio close 9
@vfio container-close 0
# VMM A (iommufd 0) takes both functions; another VMM has iommufd 1.
@iommufd open
@vfio cdev-open 0000:18:00.0
@vfio bind-iommufd 0000:18:00.0 0
@vfio cdev-open 0000:18:00.1
@vfio bind-iommufd 0000:18:00.1 1
@vfio bind-iommufd 0000:18:00.1 0
@iommufd ioas-alloc 0
@vfio attach-ioas 0000:18:00.0 1
@vfio attach-ioas 0000:18:00.1 1
# A legacy VFIO user of the same group.
@vfio open 9
# VMM A lets go of one function: the group stays owned.
@vfio device-close 0000:18:00.1
echo > /sys/bus/pci/devices/0000:18:00.1/driver_override
echo 0000:18:00.1 > /sys/bus/pci/drivers/vfio-pci/unbind
echo 0000:18:00.1 > /sys/bus/pci/drivers/ixgbe/bind
# ... and of the last one: the kernel gets the group back.
@vfio device-close 0000:18:00.0
echo 0000:18:00.1 > /sys/bus/pci/drivers/ixgbe/bind
readlink /sys/bus/pci/devices/0000:18:00.1/driver
@iommufd close 1
@iommufd close 0
