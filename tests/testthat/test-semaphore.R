test_that("semaphore() follows the interprocess API", {
  s <- semaphore(value = 2)
  on.exit(s$remove())
  expect_s3_class(s, c("rustipc_semaphore", "semaphore", "interprocess"), exact = TRUE)
  expect_identical(capture.output(print(s)), sprintf("<semaphore> \"%s\"", s$name))
  expect_invisible(s$wait())
  expect_visible(s$wait(timeout_ms = 0))
  expect_false(s$wait(timeout_ms = 0))
  expect_invisible(s$post())
  expect_identical(with(s, "yes", "no", timeout_ms = 0), "yes")
  expect_identical(with(s, "yes", "no", timeout_ms = 0), "no")
  s$post()
  expect_invisible(with(s, invisible(1), timeout_ms = 0))
  # value is ignored when the semaphore exists
  s2 <- semaphore(s$name, value = 5)
  expect_false(s2$wait(timeout_ms = 0))
  expect_error(semaphore(s$name, assert = "create"), class = "rustipc_error_already_exists")
  expect_error(semaphore(value = 2^31), class = "rustipc_error_invalid_argument")
  expect_error(semaphore(value = -1), class = "rustipc_error_invalid_argument")
  expect_error(semaphore(value = 1.5), class = "rustipc_error_invalid_argument")
})

test_that("a wait times out accurately", {
  skip_if_no_timing()
  s <- semaphore()
  on.exit(s$remove())
  t <- proc.time()[["elapsed"]]
  expect_false(s$wait(timeout_ms = 150))
  el <- proc.time()[["elapsed"]] - t
  expect_gte(el, 0.14)
  expect_lt(el, 0.4)
})

test_that("one post releases exactly one of several waiters", {
  s <- semaphore()
  done <- semaphore()
  on.exit({ s$remove(); done$remove() })
  waiter <- function(name, done) {
    s <- rustipc::semaphore(name)
    d <- rustipc::semaphore(done)
    cat("ready\n")
    r <- s$wait(timeout_ms = 20000)
    d$post()
    r
  }
  ps <- lapply(1:2, function(i) bg_ready(waiter, list(name = s$name, done = done$name)))
  s$post()
  expect_true(done$wait(timeout_ms = 20000))
  expect_false(done$wait(timeout_ms = 300))
  expect_identical(sum(vapply(ps, function(p) p$is_alive(), TRUE)), 1L)
  s$post()
  for (p in ps) p$wait(20000)
  expect_true(all(vapply(ps, function(p) p$get_result(), TRUE)))
})

test_that("SIGINT ends a blocked wait() and with() without consuming", {
  s <- semaphore()
  on.exit(s$remove())
  for (use_with in c(FALSE, TRUE)) {
    p <- bg_ready(function(name, use_with) {
      s <- rustipc::semaphore(name)
      cat("ready\n")
      at <- NA
      r <- tryCatch({
        if (use_with) with(s, "ran") else s$wait()
        "acquired"
      }, interrupt = function(e) { at <<- as.numeric(Sys.time()); "interrupted" })
      list(r = r, at = at)
    }, list(name = s$name, use_with = use_with))
    sent <- interrupt_when_blocked(p)
    expect_false(p$is_alive())
    res <- p$get_result()
    expect_identical(res$r, "interrupted")
    if (timing_checked()) expect_lt(res$at - sent, 0.25)  # within 250 ms of SIGINT
  }
  s$post()
  expect_true(s$wait(timeout_ms = 0))
  expect_false(s$wait(timeout_ms = 0))
})

test_that("cleanup and kinds", {
  name <- in_child(function() rustipc::semaphore(cleanup = TRUE)$name)
  expect_false(file.exists(object_path(name)))
  q <- msg_queue()
  expect_error(semaphore(q$name), class = "rustipc_error_wrong_kind")
  expect_true(q$remove())
})
