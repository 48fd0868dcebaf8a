echo 1 > /sys/bus/pci/devices/0000:02:00.0
