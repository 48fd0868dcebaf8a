echo 1 > /sys/bus/pci/devices/0000:02:00.0/remove
ls /sys/bus/pci/drivers/e1000e
ls /sys/bus/pci/devices/0000:02:00.0
