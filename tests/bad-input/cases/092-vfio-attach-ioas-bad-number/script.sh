@vfio attach-ioas 0000:02:00.0 ioas
