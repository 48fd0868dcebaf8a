# machine: qemu-x86-vtd
ls /sys/kernel/iommu_groups/8/devices
readlink /sys/bus/pci/devices/0000:01:00.0/driver
sudo modprobe vfio-pci
echo vfio-pci > /sys/bus/pci/devices/0000:01:00.0/driver_override
echo 0000:01:00.0 > /sys/bus/pci/drivers/e1000e/unbind
echo 0000:01:00.0 > /sys/bus/pci/drivers_probe
readlink /sys/bus/pci/devices/0000:01:00.0/driver
@vfio open 6
@vfio status 6
@vfio container-open
@vfio set-container 6 0
@vfio set-iommu 0 type1
@vfio get-device-fd 6 0000:01:00.0
echo 0000:01:00.0 > /sys/bus/pci/drivers/e1000e/bind
@vfio device-close 0000:01:00.0
@vfio close 6
@vfio container-close 0
