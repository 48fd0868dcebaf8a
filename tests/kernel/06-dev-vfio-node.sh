# S11 on the twin: /dev/vfio/N exists while a device of group N is on
# vfio-pci; the group opens once at a time (EBUSY), and again after close.
# machine: qemu-x86-vtd
sudo modprobe vfio-pci
ls /dev/vfio
@vfio open 9
echo 0000:05:00.0 > /sys/bus/pci/drivers/e1000e/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:05:00.0/driver_override
echo 0000:05:00.0 > /sys/bus/pci/drivers/vfio-pci/bind
ls /dev/vfio
@vfio open 9
@vfio open 9
@vfio status 9
@vfio close 9
@vfio open 9
@vfio close 9
@vfio close 9
echo 0000:05:00.0 > /sys/bus/pci/drivers/vfio-pci/unbind
ls /dev/vfio
