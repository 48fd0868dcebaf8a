modprobe vfio-pci
echo 8086 10d3 > /sys/bus/pci/drivers/vfio-pci/remove_id
