# modprobe.d decides who gets the GPU (kmod 30: libkmod-module.c,
# kmod_module_probe_insert_module(); the machine file's modprobe.d lines).
# From: the passthrough recipe in passthrough-softdep.machine's header.
# Boot: udev loads nouveau and snd_hda_intel by alias; each has vfio-pci as
# a pre softdep, loaded first with its options (ids=, and disable_vga=,
# which the model records only), so vfio-pci binds both GPU functions and
# the onboard audio stays with snd_hda_intel. e1000e is blacklisted: not
# loaded by alias at boot, but 'modprobe e1000e' by name loads it (-b
# would not). Reloaded by hand, nouveau brings vfio-pci back first.
# machine: passthrough-softdep.machine
lspci -nnk
modprobe -b -v e1000e
modprobe -v e1000e
lspci -k -s 02:00.0
rmmod vfio-pci
rmmod nouveau
modprobe -v nouveau
lspci -nnk -d 10de:1b80
