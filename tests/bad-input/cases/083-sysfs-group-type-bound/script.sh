echo identity > /sys/kernel/iommu_groups/9/type
