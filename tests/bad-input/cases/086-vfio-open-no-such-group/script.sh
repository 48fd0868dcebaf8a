@vfio open 99
