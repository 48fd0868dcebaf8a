echo 0000:02:00.0 > /sys/bus/pci/drivers/ahci/unbind
