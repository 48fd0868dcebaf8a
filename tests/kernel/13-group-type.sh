# The group's type file, where 6.1 and 6.12 differ (docs/architecture.md,
# "Kernel versions"): with e1000e bound, 6.1 refuses any change but
# DMA -> DMA-FQ with EBUSY ("Device is still bound to driver"), 6.12 with
# EPERM (the group is used); the two-function e1000e's group cannot change
# at all on 6.1 (EINVAL, "Group has more than one device"). Unbound, the
# single-device group changes on both, and returns to DMA before e1000e
# binds again, so the batch's next scenario sees boot's state.
# machine: qemu-x86-vtd
cat /sys/kernel/iommu_groups/6/type
echo identity > /sys/kernel/iommu_groups/6/type
echo identity > /sys/kernel/iommu_groups/10/type
cat /sys/kernel/iommu_groups/6/type
echo 0000:01:00.0 > /sys/bus/pci/devices/0000:01:00.0/driver/unbind
echo identity > /sys/kernel/iommu_groups/6/type
cat /sys/kernel/iommu_groups/6/type
echo DMA > /sys/kernel/iommu_groups/6/type
cat /sys/kernel/iommu_groups/6/type
echo 0000:01:00.0 > /sys/bus/pci/drivers/e1000e/bind
readlink /sys/bus/pci/devices/0000:01:00.0/driver
