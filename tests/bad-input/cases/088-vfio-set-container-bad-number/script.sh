@vfio set-container 9 x
