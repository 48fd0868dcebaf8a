@vfio container-close 7
