cat /sys/bus/pci/drivers/e1000e/bind
