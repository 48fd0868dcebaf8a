# The device the SMMUv3 refused (the second e1000 behind the PCIe-to-PCI
# bridge, no IOMMU group) asked for by vfio-pci: its probe fails with
# -EINVAL (vfio_register_group_dev(): no group), through drivers_probe and
# through bind, with the probe-failure line each kernel version prints
# (call_driver_probe(): 6.1's pr_warn, 6.12's dev_err); e1000 takes it
# back. Driver links are looked at with ls -d (on device tree readlink's
# path is deeper: docs/oracle.md). The same lines on both arm64 twins:
# qemu-arm64-iort's 04-no-group.sh is a link to this file.
# machine: qemu-arm64-smmuv3
sudo modprobe vfio-pci
readlink /sys/bus/pci/devices/0000:08:02.0/iommu_group
echo vfio-pci > /sys/bus/pci/devices/0000:08:02.0/driver_override
echo 0000:08:02.0 > /sys/bus/pci/drivers/e1000/unbind
echo 0000:08:02.0 > /sys/bus/pci/drivers_probe
ls -d /sys/bus/pci/devices/0000:08:02.0/driver
echo 0000:08:02.0 > /sys/bus/pci/drivers/vfio-pci/bind
echo > /sys/bus/pci/devices/0000:08:02.0/driver_override
echo 0000:08:02.0 > /sys/bus/pci/drivers/e1000/bind
ls -d /sys/bus/pci/devices/0000:08:02.0/driver/0000:08:02.0
