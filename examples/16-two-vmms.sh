# Two VMMs, each a process with its own descriptors (v6.6 fs/file.c,
# drivers/vfio/device_cdev.c, group.c).
# From: the kernel's VFIO documentation (Documentation/driver-api/vfio.rst,
# "VFIO device cdev"); the ownership rules of shared/spec/ownership.md.
# Kernel (v6.6): a process's descriptors start at 3, the lowest free first.
# vfio_device_fops_cdev_open() checks nothing, so both VMMs open the cdev
# of 0000:18:00.0. Each VMM binds only with an iommufd of its own:
# iommufd_ctx_from_fd() looks in the caller's table, and descriptor 3 of
# qemu-b is its cdev (EBADFD). The first bind wins; vfio_df_open() refuses
# the second (EINVAL: the cdev path opens a device once). The group file
# has one opener at a time, whichever process: qemu-b's open of /dev/vfio/9
# is EBUSY while qemu-a's bound cdev blocks it. When qemu-a exits, its
# files close lowest first (close_files()), the group goes back to the
# kernel, and qemu-b binds. The shell's own verbs keep their legacy names.
# machine: x86-server
modprobe vfio-pci
echo vfio-pci > /sys/bus/pci/devices/0000:18:00.0/driver_override
echo 0000:18:00.0 > /sys/bus/pci/drivers/ixgbe/unbind
echo 0000:18:00.0 > /sys/bus/pci/drivers_probe
echo vfio-pci > /sys/bus/pci/devices/0000:18:00.1/driver_override
echo 0000:18:00.1 > /sys/bus/pci/drivers/ixgbe/unbind
echo 0000:18:00.1 > /sys/bus/pci/drivers_probe
@as qemu-a @iommufd open
@as qemu-a @iommufd ioas-alloc 3
@as qemu-a @vfio cdev-open 0000:18:00.0
@as qemu-b @vfio cdev-open 0000:18:00.0
@as qemu-b @vfio bind-iommufd 3 3
@as qemu-b @iommufd open
@as qemu-a @vfio bind-iommufd 4 3
@as qemu-a @vfio attach-ioas 4 1
@as qemu-b @vfio bind-iommufd 3 4
@as qemu-b @vfio open 9
# The block form: the lines after "@as qemu-a" act in qemu-a.
@as qemu-a
@vfio cdev-open 0000:18:00.1
@vfio bind-iommufd 0000:18:00.1 3
@vfio attach-ioas 0000:18:00.1 1
@as sh
@vfio open 9
@exit qemu-a
readlink /sys/bus/pci/devices/0000:18:00.1/driver
@as qemu-b @vfio bind-iommufd 3 4
@as qemu-b @iommufd ioas-alloc 4
@as qemu-b @vfio attach-ioas 0000:18:00.0 1
@as qemu-b @vfio detach-ioas 0000:18:00.0
@exit qemu-b
@vfio open 9
@vfio close 9
