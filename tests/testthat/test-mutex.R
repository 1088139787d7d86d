test_that("mutex() follows the interprocess API", {
  m <- mutex()
  on.exit(m$remove())
  expect_s3_class(m, c("rustipc_mutex", "mutex", "interprocess"), exact = TRUE)
  expect_match(m$name, "^[A-R][A-Za-z0-9]{10}$")
  expect_identical(format(m), m$name)
  expect_identical(as.character(m), m$name)
  expect_identical(capture.output(print(m)), sprintf("<mutex> \"%s\"", m$name))
  expect_invisible(m$lock())
  expect_error(m$lock(timeout_ms = 0), class = "rustipc_error_already_locked")
  expect_invisible(m$unlock())
  expect_warning(expect_false(m$unlock()), "not locked")
  expect_silent(expect_false(m$unlock(warn = FALSE)))
  expect_visible(m$lock(timeout_ms = 0))
  expect_true(m$unlock())
  expect_true(m$lock(shared = TRUE, timeout_ms = 10))
  expect_true(m$unlock())
})

test_that("objects of one name share the process' lock", {
  m1 <- mutex()
  m2 <- mutex(m1$name, assert = "exists")
  on.exit(m1$remove())
  m1$lock()
  expect_error(m2$lock(timeout_ms = 0), class = "rustipc_error_already_locked")
  expect_true(m2$unlock())
  expect_false(m1$unlock(warn = FALSE))
})

test_that("assert, file and remove behave as documented", {
  m <- mutex()
  expect_error(mutex(m$name, assert = "create"), class = "rustipc_error_already_exists")
  expect_true(m$remove())
  expect_false(m$remove())
  expect_error(mutex(m$name, assert = "exists"), class = "rustipc_error_not_found")
  f <- file.path(tempdir(), "no-such-dir", "x.db")
  mf <- mutex(file = f)
  # The key is the absolute, normalised path (on Windows with / and the
  # long form of the temporary directory's name).
  key <- if (is_windows()) file.path(normalizePath(tempdir(), winslash = "/"), "no-such-dir", "x.db") else f
  expect_identical(mf$name, hash(key))
  expect_true(mf$remove())
  expect_error(mutex("abc", file = f), class = "rustipc_error_invalid_argument")
})

test_that("kinds do not mix and objects are owner-only", {
  m <- mutex()
  on.exit(m$remove())
  expect_error(semaphore(m$name), class = "rustipc_error_wrong_kind")
  expect_error(msg_queue(m$name), class = "rustipc_error_wrong_kind")
  err <- tryCatch(semaphore(m$name), error = identity)
  expect_match(conditionMessage(err), "is a mutex, not a semaphore")
  s <- semaphore()
  expect_error(mutex(s$name), "is a semaphore, not a mutex", class = "rustipc_error_wrong_kind")
  s$remove()
  if (!is_windows()) expect_identical(format(file.info(object_path(m$name))$mode), "600")
})

test_that("with() holds the lock, releases it on error, keeps visibility", {
  m <- mutex()
  on.exit(m$remove())
  x <- 1
  expect_identical(with(m, x + 1), 2)
  expect_invisible(with(m, invisible(5)))
  expect_error(with(m, stop("boom")), "boom")
  expect_true(m$lock(timeout_ms = 0))
  expect_true(m$unlock())
  expect_identical(with(m, "got", "busy", shared = TRUE, timeout_ms = 0), "got")
  p <- bg_holding("mutex", m$name, shared = TRUE)
  on.exit(p$kill(), add = TRUE)
  expect_identical(with(m, "got", "busy", timeout_ms = 0), "busy")
  expect_identical(with(m, "got", "busy", shared = TRUE, timeout_ms = 0), "got")
})

test_that("timeouts are accurate and huge ones work", {
  skip_if_no_timing()
  m <- mutex()
  on.exit(m$remove())
  p <- bg_holding("mutex", m$name)
  on.exit(p$kill(), add = TRUE)
  t <- proc.time()[["elapsed"]]
  expect_false(m$lock(timeout_ms = 200))
  el <- proc.time()[["elapsed"]] - t
  expect_gte(el, 0.19)
  expect_lt(el, 0.5)
  # 2^31 ms and more: a real wait (ended here by the holder's death).
  p$kill()
  expect_true(m$lock(timeout_ms = 2^31 + 5))
  expect_true(m$unlock())
})

# tools::pskill() is TerminateProcess() on Windows, whatever the signal.
test_that("a holder killed with SIGKILL releases the lock (exclusive and shared)", {
  m <- mutex()
  on.exit(m$remove())
  for (shared in c(FALSE, TRUE)) {
    p <- bg_holding("mutex", m$name, shared = shared)
    expect_false(m$lock(timeout_ms = 0))
    t <- proc.time()[["elapsed"]]
    tools::pskill(p$get_pid(), tools::SIGKILL)
    expect_true(m$lock(timeout_ms = 10000))
    expect_lt(proc.time()[["elapsed"]] - t, 1)
    m$unlock()
    p$wait(5000)
  }
})

test_that("a waiter in another process gets the lock when it is released", {
  m <- mutex()
  on.exit(m$remove())
  m$lock()
  p <- bg_ready(function(name) {
    m <- rustipc::mutex(name)
    cat("ready\n")
    got <- m$lock(timeout_ms = 20000)
    m$unlock()
    got
  }, list(name = m$name))
  m$unlock()
  p$wait(20000)
  expect_true(p$get_result())
})

test_that("SIGINT ends a blocked lock() and with() with an interrupt", {
  m <- mutex()
  on.exit(m$remove())
  m$lock()
  for (use_with in c(FALSE, TRUE)) {
    p <- bg_ready(function(name, use_with) {
      m <- rustipc::mutex(name)
      cat("ready\n")
      t <- proc.time()[["elapsed"]]
      at <- NA
      r <- tryCatch({
        if (use_with) with(m, "ran") else m$lock()
        "acquired"
      }, interrupt = function(e) { at <<- as.numeric(Sys.time()); "interrupted" })
      list(r = r, at = at, holds = m$unlock(warn = FALSE))
    }, list(name = m$name, use_with = use_with))
    sent <- interrupt_when_blocked(p)
    expect_false(p$is_alive())
    res <- p$get_result()
    expect_identical(res$r, "interrupted")
    if (timing_checked()) expect_lt(res$at - sent, 0.25)  # within 250 ms of SIGINT
    expect_false(res$holds)
  }
  m$unlock()
})

test_that("a forked child neither holds nor releases its parent's lock", {
  skip_on_os("windows")
  m <- mutex()
  on.exit(m$remove())
  m$lock()
  job <- parallel::mcparallel({
    c(unlock = m$unlock(warn = FALSE), lock = m$lock(timeout_ms = 0))
  })
  res <- parallel::mccollect(job, wait = TRUE, timeout = 30)[[1]]
  expect_identical(res, c(unlock = FALSE, lock = FALSE))
  # The parent still holds it: another process cannot take it.
  expect_false(in_child(function(name) rustipc::mutex(name)$lock(timeout_ms = 0), list(name = m$name)))
  m$unlock()
})

test_that("garbage collecting the last object releases the lock", {
  name <- local({
    m <- mutex()
    m$lock()
    m$name
  })
  gc()
  expect_true(in_child(function(name) {
    m <- rustipc::mutex(name)
    r <- m$lock(timeout_ms = 0)
    m$remove()
    r
  }, list(name = name)))
})

test_that("cleanup = TRUE removes the mutex when the session ends", {
  name <- in_child(function() rustipc::mutex(cleanup = TRUE)$name)
  expect_false(file.exists(object_path(name)))
  name2 <- in_child(function() rustipc::mutex(cleanup = FALSE)$name)
  m <- mutex(name2, assert = "exists")
  expect_true(m$remove())
})

test_that("with() takes the same `shared` values as $lock()", {
  m <- mutex()
  on.exit(m$remove())
  expect_identical(with(m, "in", shared = I(TRUE)), "in")
  expect_identical(with(m, "in", shared = structure(FALSE, class = "foo")), "in")
  expect_false(m$unlock(warn = FALSE))
})
