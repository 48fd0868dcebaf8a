modprobe vfio-pci
echo 8086 10d3 > /sys/bus/pci/drivers/vfio-pci/new_id
echo 8086 10d3 | tee /sys/bus/pci/drivers/vfio-pci/new_id
