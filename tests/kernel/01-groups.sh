# The twin's IOMMU groups, read back: the ones 'groups computed' gives
# (v6.6's pci_device_group()) must be the kernel's. Root ports with ACS
# stand alone; a switch's downstream port shares its endpoint's group;
# the multifunction e1000e's functions share one; the PCIe-to-PCI bridge
# takes the e1000 cards behind it.
# machine: qemu-x86-vtd
ls /sys/kernel/iommu_groups
ls /sys/kernel/iommu_groups/5/devices
ls /sys/kernel/iommu_groups/7/devices
ls /sys/kernel/iommu_groups/8/devices
ls /sys/kernel/iommu_groups/9/devices
ls /sys/kernel/iommu_groups/10/devices
ls /sys/kernel/iommu_groups/11/devices
readlink /sys/bus/pci/devices/0000:08:02.0/iommu_group
cat /sys/kernel/iommu_groups/6/type
readlink /sys/bus/pci/devices/0000:07:00.0/driver
readlink /sys/bus/pci/devices/0000:03:01.0/driver
ls /sys/class/iommu
