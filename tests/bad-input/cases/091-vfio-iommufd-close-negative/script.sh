@iommufd close -5
