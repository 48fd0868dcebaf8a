echo 0x10d3 > /sys/bus/pci/devices/0000:02:00.0/device
