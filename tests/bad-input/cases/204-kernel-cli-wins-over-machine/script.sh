@iommufd open
@vfio cdev-open 0000:01:00.0
