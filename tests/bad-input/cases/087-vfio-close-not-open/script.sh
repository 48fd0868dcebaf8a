modprobe vfio-pci ids=8086:10d3
@vfio close 9
