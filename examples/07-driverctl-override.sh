# S7. driverctl-style override.
# From: shared/spec/scenarios.md S7 (what "driverctl set-override" and
# "driverctl unset-override" write).
# Kernel: with driver_override = vfio-pci, unbinding and reprobing binds
# vfio-pci, and only vfio-pci: a bind of e1000e, whose ids match but which is
# not the override, fails with ENODEV. Clearing the override ("echo >")
# reads back as (null), and reprobing returns the host driver; vfio-pci,
# which has no ids of its own, then cannot be bound by name (ENODEV).
# machine: x86-desktop
sudo modprobe vfio-pci
echo vfio-pci > /sys/bus/pci/devices/0000:03:00.0/driver_override
echo 0000:03:00.0 > /sys/bus/pci/devices/0000:03:00.0/driver/unbind
echo 0000:03:00.0 > /sys/bus/pci/drivers_probe
cat /sys/bus/pci/devices/0000:03:00.0/driver_override
readlink /sys/bus/pci/devices/0000:03:00.0/driver
# A bind that does not match the override.
echo 0000:03:00.0 > /sys/bus/pci/devices/0000:03:00.0/driver/unbind
echo 0000:03:00.0 > /sys/bus/pci/drivers/e1000e/bind
readlink /sys/bus/pci/devices/0000:03:00.0/driver
# unset-override: clear it and reprobe.
echo > /sys/bus/pci/devices/0000:03:00.0/driver_override
cat /sys/bus/pci/devices/0000:03:00.0/driver_override
echo 0000:03:00.0 > /sys/bus/pci/drivers_probe
readlink /sys/bus/pci/devices/0000:03:00.0/driver
echo 0000:03:00.0 > /sys/bus/pci/devices/0000:03:00.0/driver/unbind
echo 0000:03:00.0 > /sys/bus/pci/drivers/vfio-pci/bind
echo 0000:03:00.0 > /sys/bus/pci/drivers/e1000e/bind
readlink /sys/bus/pci/devices/0000:03:00.0/driver
