echo "$(cat /sys/bus/pci/drivers_autoprobe)"
