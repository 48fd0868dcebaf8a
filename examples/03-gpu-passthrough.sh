# S3. GPU passthrough: GPU and HDMI audio in one group (x86 desktop).
# From: shared/spec/scenarios.md S3 (countless GPU-passthrough reports).
# Kernel: root port 0000:00:01.0 (pcieport, no ACS), GPU 0000:01:00.0 and its
# HDMI audio 0000:01:00.1 share group 1. With only the GPU moved to vfio-pci,
# snd_hda_intel still holds a DMA-API use count: GET_STATUS lacks VIABLE,
# SET_CONTAINER fails with EPERM and QEMU says "group 1 is not viable".
# Once the audio function is on vfio-pci too the claim succeeds; pcieport on
# the root port never blocks it (driver_managed_dma). Variant: vfio-pci
# loaded with ids=10de:1b80,10de:10f0 before the GPU drivers takes both
# functions (here: the modules reloaded in boot order).
# machine: x86-desktop
sudo modprobe vfio-pci
ls /sys/kernel/iommu_groups/1/devices
echo 0000:01:00.0 > /sys/bus/pci/drivers/nouveau/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:01:00.0/driver_override
echo 0000:01:00.0 > /sys/bus/pci/drivers_probe
lspci -k -s 01:00
@vmm assign 0000:01:00.0
@vfio open 1
@vfio status 1
@vfio container-open
@vfio set-container 1 0
@vfio close 1
@vfio container-close 0
# Move the audio function too.
echo 0000:01:00.1 > /sys/bus/pci/drivers/snd_hda_intel/unbind
echo vfio-pci > /sys/bus/pci/devices/0000:01:00.1/driver_override
echo 0000:01:00.1 > /sys/bus/pci/drivers_probe
@vmm assign 0000:01:00.0
@vfio status 1
lspci -k -s 00:01.0
@vmm release 0000:01:00.0
# The common variant: vfio-pci.ids= with vfio-pci loaded first.
sudo modprobe -r vfio-pci
sudo modprobe -r nouveau
sudo modprobe -r snd_hda_intel
echo > /sys/bus/pci/devices/0000:01:00.0/driver_override
echo > /sys/bus/pci/devices/0000:01:00.1/driver_override
sudo modprobe vfio-pci ids=10de:1b80,10de:10f0
sudo modprobe nouveau
sudo modprobe snd_hda_intel
lspci -nnk -s 01:00
@vmm assign 0000:01:00.0
@vfio status 1
@vmm release 0000:01:00.0
