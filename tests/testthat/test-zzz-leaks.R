# Leak guard, part 2 (this file runs last): the suite must leave no rustipc
# object in its object directory and no child process running.
test_that("the test suite left nothing behind in its object directory", {
  gc()
  left <- setdiff(shm_files(), rustipc_shm_before)
  expect_identical(left, character())
  # The directory is this run's own (helper-ipc.R): remove it with its uid
  # block files, once nothing is left in it.
  if (!length(left) && grepl("rustipc-test-", object_dir(), fixed = TRUE)) {
    unlink(object_dir(), recursive = TRUE)
  }
})

test_that("the test suite left no child process running", {
  kids <- ps::ps_children(ps::ps_handle())
  alive <- Filter(function(p) ps::ps_is_running(p) && ps::ps_status(p) != "zombie", kids)
  cmds <- vapply(alive, function(p) paste(ps::ps_cmdline(p), collapse = " "), "")
  # processx's supervisor is callr's own watchdog; it ends with this process.
  # (processx/bin/supervisor, or processx\bin\x64\supervisor.exe on Windows.)
  cmds <- cmds[!grepl("processx[/\\\\]bin[/\\\\]([^ ]*[/\\\\])?supervisor", cmds)]
  expect_identical(cmds, character())
})
