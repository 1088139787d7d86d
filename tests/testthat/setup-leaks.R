# Leak guard, part 1: what the object directory held before the suite ran.  Part 2 is
# test-zzz-leaks.R, which runs last.
rustipc_shm_before <- shm_files()
