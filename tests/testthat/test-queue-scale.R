# msg_queue at scale, and the native take/settle pair that with() uses.
# The entry points are called directly (the R layer above them is tested in
# test-msg_queue.R), through a raw handle opened by name.

raw_queue <- function(name) {
  h <- .Call(asNamespace("rustipc")$rs_mq_open, name, "exists", 1, 1, FALSE)
  if (is.list(h)) stop(h$message)
  h
}
mq_take <- function(h, timeout_ms = 0) .Call(asNamespace("rustipc")$rs_mq_take, h, timeout_ms)
mq_settle <- function(h, token, put_back) {
  .Call(asNamespace("rustipc")$rs_mq_settle, h, token, put_back)
}

test_that("a send+receive pair costs the same in a queue of a million slots", {
  skip_if_no_timing()
  per_pair <- function(max_count) {
    q <- msg_queue(max_count = max_count, max_nchar = 1)
    on.exit(q$remove())
    n <- 2000
    t <- system.time(for (i in seq_len(n)) {
      q$send("x", timeout_ms = 0)
      q$receive(timeout_ms = 0)
    })[["elapsed"]]
    t / n
  }
  small <- per_pair(100)
  big <- per_pair(1e6)
  # R's own overhead dominates both (a few microseconds); a scan of the
  # slots cost over a millisecond a pair at this size.
  expect_lt(big, 2e-4)
  expect_lt(big, 5 * small + 5e-5)
})

test_that("take and settle keep the delivery order, and a token settles once", {
  q <- msg_queue(max_count = 3, max_nchar = 8)
  on.exit(q$remove())
  h <- raw_queue(q$name)
  q$send("a", priority = 1); q$send("b", priority = 1); q$send("low")
  t <- mq_take(h)
  expect_identical(t$msg, "a")
  expect_type(t$token, "double")
  expect_length(t$token, 3)
  expect_identical(q$count(), 2L)
  # The slot stays occupied while taken.
  expect_false(q$send("x", timeout_ms = 0))
  expect_true(mq_settle(h, t$token, TRUE))
  expect_false(mq_settle(h, t$token, TRUE))
  t <- mq_take(h)
  expect_identical(t$msg, "a")
  expect_true(mq_settle(h, t$token, FALSE))
  expect_false(mq_settle(h, t$token, FALSE))
  expect_identical(c(q$receive(timeout_ms = 0), q$receive(timeout_ms = 0)), c("b", "low"))
  expect_null(mq_take(h, 0))
  expect_identical(mq_settle(h, "not a token", TRUE)$kind, "invalid_argument")
  expect_identical(mq_settle(h, c(0, 0, 2^32), TRUE)$kind, "invalid_argument")
})

test_that("a taker killed while holding a message loses neither the message nor its slot", {
  q <- msg_queue(max_count = 2, max_nchar = 8)
  on.exit(q$remove())
  q$send("first", priority = 1)
  q$send("second")
  p <- bg_ready(function(name) {
    ns <- asNamespace("rustipc")
    h <- .Call(ns$rs_mq_open, name, "exists", 1, 1, FALSE)
    t <- .Call(ns$rs_mq_take, h, 0)
    cat(t$msg, "ready\n")
    Sys.sleep(600)
  }, list(name = q$name))
  on.exit(p$kill(), add = TRUE, after = FALSE)
  expect_identical(q$count(), 1L)
  p$kill()
  p$wait(5000)
  # The queue is full (one FULL, one TAKEN by a dead process): a sender puts
  # the message back, but still finds no room.
  expect_false(q$send("third", timeout_ms = 0))
  expect_identical(q$count(), 2L)
  expect_identical(q$receive(timeout_ms = 0), "first")
  expect_identical(q$receive(timeout_ms = 0), "second")
  expect_true(q$send("third", timeout_ms = 0))
  expect_identical(q$receive(timeout_ms = 0), "third")
})
