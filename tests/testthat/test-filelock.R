test_that("lock() and unlock() follow filelock's API", {
  path <- tempfile(fileext = ".lock")
  on.exit(unlink(path))
  l <- lock(path)
  expect_s3_class(l, "rustipc_lock")
  expect_true(file.exists(path))
  expect_identical(capture.output(print(l)), paste0("Lock on ", sQuote(normalizePath(path))))
  expect_true(unlock(l))
  expect_true(unlock(l))
  expect_output(print(l), "^Unlocked lock on")
  expect_true(file.exists(path))
  expect_error(unlock("nope"), "lock object", class = "rustipc_error_invalid_argument")
})

test_that("relative paths and ~ are made absolute", {
  dir <- tempfile()
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE))
  old <- setwd(dir)
  on.exit(setwd(old), add = TRUE, after = FALSE)
  l <- lock("rel.lock")
  expect_identical(l[[2]], normalizePath("rel.lock"))
  setwd(old)  # the lock keeps the path it was taken on
  expect_identical(l[[2]], normalizePath(file.path(dir, "rel.lock")))
  expect_identical(capture.output(print(l)), paste0("Lock on ", sQuote(l[[2]])))
  unlock(l)
  skip_on_cran()  # writes in the home directory
  home <- file.path("~", sprintf(".rustipc-test-%s.lock", uid()))
  on.exit(unlink(path.expand(home)), add = TRUE)
  l <- lock(home)
  expect_true(file.exists(path.expand(home)))
  expect_identical(l[[2]], lock_path(path.expand(home)))
  unlock(l)
  if (is_windows()) {
    # A backslash also ends the ~ part there.
    l <- lock(paste0("~\\", basename(home)))
    expect_identical(l[[2]], lock_path(path.expand(home)))
    unlock(l)
  }
})

test_that("same process: same kind shares the lock, other kind is an error", {
  path <- tempfile()
  on.exit(unlink(path))
  l1 <- lock(path, exclusive = FALSE)
  l2 <- lock(path, exclusive = FALSE, timeout = 0)
  expect_s3_class(l2, "rustipc_lock")
  err <- tryCatch(lock(path, exclusive = TRUE, timeout = 0), error = identity)
  expect_s3_class(err, "rustipc_error_already_locked")
  expect_match(conditionMessage(err), basename(path), fixed = TRUE)
  locked <- function() in_child(function(p) is.null(rustipc::lock(p, timeout = 0)), list(p = path))
  unlock(l1)
  expect_true(locked())
  unlock(l2)
  expect_false(locked())
})

test_that("another process is excluded, and gets the lock after unlock", {
  path <- tempfile()
  on.exit(unlink(path))
  l <- lock(path)
  p <- bg_ready(function(p) {
    cat("ready\n")
    l <- rustipc::lock(p, timeout = 20000)
    !is.null(l)
  }, list(p = path))
  expect_true(p$is_alive())
  unlock(l)
  p$wait(20000)
  expect_true(p$get_result())
})

test_that("failed and timed-out attempts leak no descriptors", {
  path <- tempfile()
  on.exit(unlink(path))
  p <- bg_holding("file", path)
  on.exit(p$kill(), add = TRUE)
  before <- open_files()
  for (i in 1:300) expect_null(lock(path, timeout = 0))
  for (i in 1:3) expect_null(lock(path, timeout = 5))
  expect_lte(open_files(), before)
})

test_that("reading and writing the lock file does not release the lock", {
  # The hazard (a POSIX fcntl lock goes when any descriptor of its file
  # closes) does not exist on Windows, whose LockFileEx() locks are
  # mandatory: there another handle may not write a locked range at all.
  skip_on_os("windows")
  path <- tempfile()
  on.exit(unlink(path))
  l <- lock(path)
  writeLines("data", path)
  readLines(path)
  close(file(path, "r"))
  expect_true(in_child(function(p) is.null(rustipc::lock(p, timeout = 0)), list(p = path)))
  unlock(l)
})

test_that("a symlink to the file is the same lock", {
  path <- tempfile()
  alias <- tempfile()
  on.exit(unlink(c(path, alias)))
  file.create(path)
  # (Windows makes symbolic links only in Developer Mode or as administrator.)
  if (!isTRUE(suppressWarnings(file.symlink(path, alias)))) skip("cannot make a symbolic link here")
  l <- lock(path)
  l2 <- lock(alias, timeout = 0)
  expect_s3_class(l2, "rustipc_lock")
  unlock(l2)
  # Releasing the alias handle does not release the real lock.
  expect_true(in_child(function(p) is.null(rustipc::lock(p, timeout = 0)), list(p = path)))
  unlock(l)
})

test_that("rustipc and filelock exclude each other", {
  skip_if_not_installed("filelock")
  path <- tempfile()
  on.exit(unlink(path))
  theirs <- filelock::lock(path)
  expect_true(in_child(function(p) is.null(rustipc::lock(p, timeout = 0)), list(p = path)))
  filelock::unlock(theirs)
  ours <- lock(path)
  expect_true(in_child(function(p) is.null(filelock::lock(p, timeout = 0)), list(p = path)))
  unlock(ours)
  expect_false(in_child(function(p) is.null(filelock::lock(p, timeout = 0)), list(p = path)))
})

test_that("a forked child is not handed its parent's lock", {
  skip_on_os("windows")  # no fork
  path <- tempfile()
  on.exit(unlink(path))
  l <- lock(path)
  job <- parallel::mcparallel({
    got <- is.null(lock(path, timeout = 0))
    unlock(l)
    got
  })
  expect_true(parallel::mccollect(job, wait = TRUE, timeout = 30)[[1]])
  expect_true(in_child(function(p) is.null(rustipc::lock(p, timeout = 0)), list(p = path)))
  unlock(l)
})

# tools::pskill() is TerminateProcess() on Windows, whatever the signal.
test_that("a holder killed with SIGKILL releases the lock", {
  path <- tempfile()
  on.exit(unlink(path))
  p <- bg_holding("file", path)
  expect_null(lock(path, timeout = 0))
  tools::pskill(p$get_pid(), tools::SIGKILL)
  l <- lock(path, timeout = 10000)
  expect_s3_class(l, "rustipc_lock")
  unlock(l)
  p$wait(5000)
})

test_that("garbage collection releases a lock", {
  path <- tempfile()
  on.exit(unlink(path))
  local(lock(path))
  gc()
  expect_false(in_child(function(p) is.null(rustipc::lock(p, timeout = 0)), list(p = path)))
})

test_that("timeouts are accurate and SIGINT ends a wait", {
  skip_if_no_timing()
  path <- tempfile()
  on.exit(unlink(path))
  l <- lock(path)
  p <- bg_ready(function(p) {
    # Open files: descriptors, or handles on Windows.
    nfiles <- function() {
      if (.Platform$OS.type == "windows") ps::ps_num_fds() else length(list.files("/proc/self/fd"))
    }
    t <- proc.time()[["elapsed"]]
    r1 <- rustipc::lock(p, timeout = 200)
    el <- proc.time()[["elapsed"]] - t
    cat("ready\n")
    before <- nfiles()
    at <- NA
    r2 <- tryCatch({ rustipc::lock(p); "acquired" },
                   interrupt = function(e) { at <<- as.numeric(Sys.time()); "interrupted" })
    list(r1 = is.null(r1), el = el, r2 = r2, at = at, fds = nfiles() - before)
  }, list(p = path))
  sent <- interrupt_when_blocked(p)
  res <- p$get_result()
  expect_true(res$r1)
  expect_gte(res$el, 0.19)
  expect_lt(res$el, 0.5)
  expect_identical(res$r2, "interrupted")
  expect_lt(res$at - sent, 0.25)  # within 250 ms of SIGINT
  expect_identical(res$fds, 0L)
  unlock(l)
})

test_that("errors are classed and name the file", {
  d <- tempfile()
  dir.create(d)
  on.exit(unlink(d, recursive = TRUE))
  err <- tryCatch(lock(d), error = identity)
  expect_s3_class(err, "rustipc_error_os_error")
  expect_match(conditionMessage(err), "directory")
  expect_match(conditionMessage(err), basename(d), fixed = TRUE)
  missing <- file.path(d, "nope", "x.lock")
  err <- tryCatch(lock(missing), error = identity)
  expect_s3_class(err, "rustipc_error")
  expect_match(conditionMessage(err), "nope", fixed = TRUE)
  for (bad in list(NA_character_, 1, c("a", "b"), NULL)) {
    expect_error(lock(bad), class = "rustipc_error_invalid_argument")
  }
  f <- file.path(d, "ok.lock")
  expect_error(lock(f, exclusive = NA), class = "rustipc_error_invalid_argument")
  expect_error(lock(f, timeout = -1), class = "rustipc_error_invalid_argument")
  expect_error(lock(f, timeout = "1"), class = "rustipc_error_invalid_argument")
})

# (On Windows, mode 444 is the read-only attribute.)
test_that("a shared lock works on a read-only lock file", {
  path <- tempfile()
  on.exit({ Sys.chmod(path, "644"); unlink(path) })
  file.create(path)
  Sys.chmod(path, "444")
  l <- lock(path, exclusive = FALSE)
  expect_s3_class(l, "rustipc_lock")
  unlock(l)
})
