# The ACPI/IORT twin's IOMMU groups, read back: the ones 'groups check'
# computes must be the kernel's, numbers included (probe order: the
# built-in pcieport and shpchp, then e1000e, then e1000). The IORT code
# asks for ACS in time, so each root port stands alone; switch ports share
# their endpoint's group; the second e1000 behind the PCIe-to-PCI bridge
# and the host bridge have none.
# machine: qemu-arm64-iort
ls /sys/kernel/iommu_groups
ls /sys/kernel/iommu_groups/4/devices
ls /sys/kernel/iommu_groups/5/devices
ls /sys/kernel/iommu_groups/6/devices
ls /sys/kernel/iommu_groups/7/devices
ls /sys/kernel/iommu_groups/8/devices
ls /sys/kernel/iommu_groups/9/devices
readlink /sys/bus/pci/devices/0000:08:02.0/iommu_group
readlink /sys/bus/pci/devices/0000:00:00.0/iommu_group
cat /sys/kernel/iommu_groups/8/type
readlink /sys/bus/pci/devices/0000:07:00.0/driver
readlink /sys/bus/pci/devices/0000:08:02.0/driver
ls /sys/class/iommu
