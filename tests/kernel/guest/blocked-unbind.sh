# The guest's line timeout (scripts/test-kernel runs this with 'dmaown
# kernel run', not 'diff'): a userspace that does not give the device back
# (the test hook below) leaves vfio-pci's unbind blocked, "No device
# request channel registered, blocked until released by user"; the line
# must end at the timeout with "timeout":true and the lines after it run.
# dmaown-guest: no-comply
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
