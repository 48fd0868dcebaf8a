@vfio container-open
@vfio set-iommu 0 type9
