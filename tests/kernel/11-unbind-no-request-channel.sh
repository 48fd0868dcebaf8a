# S14's other half on the twin: a device opened through its group with no
# request eventfd. vfio-pci's unbind then logs "No device request channel
# registered, blocked until released by user" and waits; a userspace that
# gives the device back (the model's, and the guest helper's, which
# closes the device's files on that line) lets it finish; the group file
# and the container stay open.
# machine: qemu-x86-vtd
sudo modprobe vfio-pci
echo 0000:05:00.0 > /sys/bus/pci/drivers/e1000e/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:05:00.0/driver_override
echo 0000:05:00.0 > /sys/bus/pci/drivers_probe
@vfio open 9
@vfio container-open
@vfio set-container 9 0
@vfio set-iommu 0 type1v2
@vfio get-device-fd 9 0000:05:00.0
echo 0000:05:00.0 > /sys/bus/pci/drivers/vfio-pci/unbind
readlink /sys/bus/pci/devices/0000:05:00.0/driver
ls /dev/vfio
@vfio status 9
@vfio device-close 0000:05:00.0
@vfio close 9
@vfio container-close 0
