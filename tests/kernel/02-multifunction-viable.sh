# S3 on the twin: the two functions of 06:00 share group 10. With only
# one on vfio-pci, e1000e still holds a DMA-API use count on the other:
# the group is not viable and SET_CONTAINER fails with EPERM. Once both
# are on vfio-pci the claim succeeds.
# machine: qemu-x86-vtd
sudo modprobe vfio-pci
echo 0000:06:00.0 > /sys/bus/pci/drivers/e1000e/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:06:00.0/driver_override
echo 0000:06:00.0 > /sys/bus/pci/drivers_probe
readlink /sys/bus/pci/devices/0000:06:00.0/driver
ls /dev/vfio
@vmm assign 0000:06:00.0
@vfio open 10
@vfio status 10
@vfio container-open
@vfio set-container 10 0
@vfio close 10
@vfio container-close 0
echo 0000:06:00.1 > /sys/bus/pci/drivers/e1000e/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:06:00.1/driver_override
echo 0000:06:00.1 > /sys/bus/pci/drivers_probe
@vmm assign 0000:06:00.0
@vfio status 10
@vmm release 0000:06:00.0
