modprobe vfio-pci
echo vfio > /sys/bus/pci/drivers/vfio-pci/new_id
