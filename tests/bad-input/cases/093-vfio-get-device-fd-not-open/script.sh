@vfio get-device-fd 9 0000:02:00.0
