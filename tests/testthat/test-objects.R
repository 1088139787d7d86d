test_that("ipc_objects() lists kinds, sizes and whether mutexes are locked", {
  m <- mutex()
  s <- semaphore()
  q <- msg_queue()
  on.exit({ m$remove(); s$remove(); q$remove() })
  objs <- ipc_objects()
  expect_s3_class(objs, "data.frame")
  expect_named(objs, c("name", "kind", "size", "modified", "locked", "state", "creator", "cleanup", "orphaned"))
  row <- function(o) objs[objs$name == o$name, ]
  expect_identical(row(m)$kind, "mutex")
  expect_identical(row(s)$kind, "semaphore")
  expect_identical(row(q)$kind, "msg_queue")
  expect_false(row(m)$locked)
  expect_true(is.na(row(s)$locked))
  expect_gt(row(q)$size, 0)
  expect_s3_class(objs$modified, "POSIXct")
  # Locked by another process
  p <- bg_holding("mutex", m$name, shared = TRUE)
  on.exit(p$kill(), add = TRUE)
  objs <- ipc_objects()
  expect_true(row(m)$locked)
  m$remove()
  expect_false(m$name %in% ipc_objects()$name)
})

test_that("cleanup = TRUE objects of a process ended by SIGTERM, SIGHUP or SIGKILL are orphans, and go", {
  # On Windows tools::pskill() is TerminateProcess() whatever the signal
  # (and only SIGINT and SIGTERM are defined there): one round.
  sigs <- if (is_windows()) tools::SIGTERM else c(tools::SIGTERM, tools::SIGHUP, tools::SIGKILL)
  for (sig in sigs) {
    f <- tempfile()
    p <- bg_ready(function(f) {
      m <- rustipc::mutex(cleanup = TRUE)
      q <- rustipc::msg_queue(cleanup = TRUE)
      keep <- rustipc::semaphore(cleanup = FALSE)
      writeLines(c(m$name, q$name, keep$name), f)
      cat("ready\n")
      Sys.sleep(600)
    }, list(f = f))
    names <- readLines(f)
    unlink(f)
    row <- function() ipc_objects()[ipc_objects()$name %in% names, ]
    expect_identical(row()$orphaned, c(FALSE, FALSE, FALSE)[seq_len(nrow(row()))])
    tools::pskill(p$get_pid(), sig)
    p$wait(5000)
    expect_false(p$is_alive())
    o <- ipc_objects()
    expect_identical(o$orphaned[match(names, o$name)], c(TRUE, TRUE, FALSE), label = sig)
    gone <- ipc_cleanup()
    expect_setequal(gone, names[1:2])
    expect_identical(intersect(names, ipc_objects()$name), names[3])
    semaphore(names[3], assert = "exists")$remove()
  }
})

test_that("an object whose mode was widened is still listed, and refused when opened", {
  skip_on_os("windows") # no modes there
  m <- mutex()
  name <- m$name
  path <- object_path(name)
  on.exit({ Sys.chmod(path, "600", use_umask = FALSE); m$remove() })
  expect_true(Sys.chmod(path, "640", use_umask = FALSE))
  expect_true(name %in% ipc_objects()$name)
  # (Another process: this one already has the object open.)
  err <- callr::r(function(n) tryCatch({ rustipc::mutex(n); "opened" }, error = function(e) class(e)[1]),
                  list(name), libpath = .libPaths())
  expect_identical(err, "rustipc_error_permission")
})
