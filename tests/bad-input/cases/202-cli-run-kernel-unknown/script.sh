@iommufd open
