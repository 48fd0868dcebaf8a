# The device-tree twin's IOMMU groups, read back: the ones 'groups check'
# computes must be the kernel's. ACS control stays 0 on device tree, so
# each root port shares a group with everything below it; the second e1000
# behind the PCIe-to-PCI bridge and the host bridge have none (the SMMUv3
# driver refuses a stream ID the first e1000 holds, arm_smmu_insert_master();
# the host bridge is never probed); shpchp binds the bridge.
# Driver links are looked at with ls -d: on device tree the PCI root is
# below the host bridge's platform device, so readlink's relative path
# is deeper than the model's (docs/oracle.md).
# machine: qemu-arm64-smmuv3
ls /sys/kernel/iommu_groups
ls /sys/kernel/iommu_groups/0/devices
ls /sys/kernel/iommu_groups/1/devices
ls /sys/kernel/iommu_groups/2/devices
ls /sys/kernel/iommu_groups/3/devices
readlink /sys/bus/pci/devices/0000:08:02.0/iommu_group
readlink /sys/bus/pci/devices/0000:00:00.0/iommu_group
cat /sys/kernel/iommu_groups/0/type
ls -d /sys/bus/pci/devices/0000:07:00.0/driver/0000:07:00.0
ls -d /sys/bus/pci/devices/0000:08:02.0/driver/0000:08:02.0
ls /sys/class/iommu
