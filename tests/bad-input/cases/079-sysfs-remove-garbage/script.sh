echo yes > /sys/bus/pci/devices/0000:02:00.0/remove
