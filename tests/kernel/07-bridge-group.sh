# S2 on the twin: the two e1000 cards behind the PCIe-to-PCI bridge
# share group 11 with it; new_id puts both on vfio-pci, the bridge has no
# driver and does not block, and the VFIO documentation's sequence works.
# machine: qemu-x86-vtd
sudo modprobe vfio-pci
echo 0000:08:01.0 > /sys/bus/pci/devices/0000:08:01.0/driver/unbind
echo 0000:08:02.0 > /sys/bus/pci/devices/0000:08:02.0/driver/unbind
echo 8086 100e > /sys/bus/pci/drivers/vfio-pci/new_id
readlink /sys/bus/pci/devices/0000:08:01.0/driver
readlink /sys/bus/pci/devices/0000:08:02.0/driver
ls /dev/vfio
@vfio open 11
@vfio status 11
@vfio container-open
@vfio set-container 11 0
@vfio set-iommu 0 type1
@vfio get-device-fd 11 0000:08:01.0
@vfio get-device-fd 11 0000:07:00.0
@vfio status 11
@vfio device-close 0000:08:01.0
@vfio close 11
@vfio container-close 0
