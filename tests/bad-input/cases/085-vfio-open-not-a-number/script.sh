@vfio open abc
