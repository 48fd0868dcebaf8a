# dmaown check: I1 isolation violated after 1 action
# 0000:01:00.1 is bound to snd_hda_intel, a kernel DMA-API driver, in group 1 which userspace owns
# machine: vfio-host
# dmaown: --format 1 --check --fault claim-ignores-count
@as qemu-a @iommufd open
@as qemu-a @iommufd ioas-alloc 3
@as qemu-b @iommufd open
@as qemu-b @iommufd ioas-alloc 3
@as qemu-a @vfio cdev-open 0000:01:00.0 && @as qemu-a @vfio bind-iommufd 0000:01:00.0 3 && @as qemu-a @vfio attach-ioas 0000:01:00.0 1
