| tee /sys/bus/pci/drivers_probe
