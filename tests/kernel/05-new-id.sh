# S10 on the twin: new_id takes only free devices, twice is EEXIST,
# remove_id twice is ENODEV, drivers_probe succeeds with no driver,
# bind fails with ENODEV for a mismatch and for no such device.
# machine: qemu-x86-vtd
sudo modprobe vfio-pci
echo 0000:05:00.0 > /sys/bus/pci/drivers/e1000e/unbind
echo "8086 10d3" > /sys/bus/pci/drivers/vfio-pci/new_id
readlink /sys/bus/pci/devices/0000:05:00.0/driver
readlink /sys/bus/pci/devices/0000:04:00.0/driver
echo "8086 10d3" > /sys/bus/pci/drivers/vfio-pci/new_id
echo "8086 10d3" | sudo tee /sys/bus/pci/drivers/vfio-pci/new_id
echo "8086 10d3" > /sys/bus/pci/drivers/vfio-pci/remove_id
echo "8086 10d3" > /sys/bus/pci/drivers/vfio-pci/remove_id
readlink /sys/bus/pci/devices/0000:05:00.0/driver
echo 0000:05:00.0 > /sys/bus/pci/drivers/vfio-pci/unbind
echo 0000:05:00.0 > /sys/bus/pci/drivers/e1000/bind
echo 0000:05:00.0 > /sys/bus/pci/drivers/vfio-pci/bind
echo 0000:99:00.0 > /sys/bus/pci/drivers/vfio-pci/bind
echo 0000:05:00.0 > /sys/bus/pci/drivers_probe
readlink /sys/bus/pci/devices/0000:05:00.0/driver
ls /dev/vfio
