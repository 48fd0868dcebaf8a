# S10. new_id: twice is an error, and it only takes devices that are free now.
# From: shared/spec/scenarios.md S10.
# Kernel: new_id "1af4 1041" binds the unbound virtio-net function
# 0000:05:00.0 to vfio-pci; writing it a second time fails with EEXIST
# ("write error: File exists", since 5.12; tee prints "tee: ...: File
# exists"). new_id "8086 10fb" leaves the 82599 functions on ixgbe, where they
# are bound. remove_id takes an id away (a second time: ENODEV) but does not
# unbind. drivers_probe reports success even when no driver binds the device,
# and bind fails with ENODEV for a driver whose ids and override do not match
# and for a device that does not exist.
# machine: x86-server
sudo modprobe vfio-pci
lspci -nnk -s 05:00.0
echo "1af4 1041" > /sys/bus/pci/drivers/vfio-pci/new_id
readlink /sys/bus/pci/devices/0000:05:00.0/driver
echo "1af4 1041" > /sys/bus/pci/drivers/vfio-pci/new_id
echo "1af4 1041" | sudo tee /sys/bus/pci/drivers/vfio-pci/new_id
# Devices bound elsewhere stay where they are.
echo "8086 10fb" > /sys/bus/pci/drivers/vfio-pci/new_id
readlink /sys/bus/pci/devices/0000:18:00.0/driver
readlink /sys/bus/pci/devices/0000:18:00.1/driver
echo "8086 10fb" > /sys/bus/pci/drivers/vfio-pci/remove_id
# remove_id, twice.
echo "1af4 1041" > /sys/bus/pci/drivers/vfio-pci/remove_id
echo "1af4 1041" > /sys/bus/pci/drivers/vfio-pci/remove_id
readlink /sys/bus/pci/devices/0000:05:00.0/driver
echo 0000:05:00.0 > /sys/bus/pci/drivers/vfio-pci/unbind
# No driver wants it now: drivers_probe still succeeds.
echo 0000:05:00.0 > /sys/bus/pci/drivers_probe
readlink /sys/bus/pci/devices/0000:05:00.0/driver
# bind with neither ids nor override matching, and of no such device.
echo 0000:05:00.0 > /sys/bus/pci/drivers/vfio-pci/bind
echo 0000:05:00.0 > /sys/bus/pci/drivers/ixgbe/bind
echo 0000:99:00.0 > /sys/bus/pci/drivers/vfio-pci/bind
ls /dev/vfio
