echo fe800000.usb > /sys/bus/pci/drivers/nvme/bind
