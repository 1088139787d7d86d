test_that("msg_queue() follows the interprocess API", {
  q <- msg_queue(max_count = 3, max_nchar = 5)
  on.exit(q$remove())
  expect_s3_class(q, c("rustipc_msg_queue", "msg_queue", "interprocess"), exact = TRUE)
  expect_identical(capture.output(print(q)), sprintf("<msg_queue> \"%s\"", q$name))
  expect_identical(q$max_count(), 3L)
  expect_identical(q$max_nchar(), 5L)
  expect_identical(q$count(), 0L)
  expect_invisible(q$send("a"))
  expect_visible(q$send("", timeout_ms = 0))
  expect_true(q$send("c", priority = 2))
  expect_false(q$send("d", timeout_ms = 0))
  expect_identical(q$count(), 3L)
  expect_identical(q$receive(), "c")
  expect_identical(q$receive(), "a")
  expect_identical(q$receive(), "")
  expect_null(q$receive(timeout_ms = 0))
  q2 <- msg_queue(q$name, max_count = 50, max_nchar = 50)
  expect_identical(q2$max_count(), 3L)
})

test_that("priorities first, then first in first out", {
  q <- msg_queue(max_count = 1000)
  on.exit(q$remove())
  pr <- sample(0:4, 500, replace = TRUE)
  for (i in seq_along(pr)) q$send(sprintf("%d-%03d", pr[i], i), priority = pr[i])
  got <- vapply(seq_along(pr), function(i) q$receive(), "")
  expect_identical(got, sprintf("%d-%03d", pr, seq_along(pr))[order(-pr, seq_along(pr))])
  q$send("top", priority = 2^31 - 1)
  expect_identical(q$receive(), "top")
})

test_that("max_nchar counts characters and text comes back as sent", {
  q <- msg_queue(max_nchar = 3)
  on.exit(q$remove())
  accented <- "\u00e9\u00e8\u00ea"
  expect_true(q$send(accented))
  got <- q$receive()
  expect_identical(got, accented)
  expect_identical(Encoding(got), "UTF-8")
  latin <- iconv("\u00e9t\u00e9", "UTF-8", "latin1")
  q$send(latin)
  expect_identical(q$receive(), "\u00e9t\u00e9")
  err <- tryCatch(q$send("abcd"), error = identity)
  expect_s3_class(err, "rustipc_error_too_long")
  expect_match(conditionMessage(err), "4 characters.*at most 3")
  expect_identical(q$count(), 0L)
})

test_that("with() binds . and restores the caller's", {
  q <- msg_queue()
  on.exit(q$remove())
  q$send("hello")
  expect_identical(with(q, paste("got", .), "none", timeout_ms = 0), "got hello")
  expect_false(exists(".", inherits = FALSE))
  . <- "mine"
  q$send("x")
  expect_identical(with(q, toupper(.)), "X")
  expect_identical(., "mine")
  expect_identical(with(q, "got", "none", timeout_ms = 0), "none")
  expect_null(with(q, "got", timeout_ms = 0))
  q$send("y")
  expect_invisible(with(q, invisible(.)))
})

test_that("bad messages and priorities are classed errors", {
  q <- msg_queue()
  on.exit(q$remove())
  for (bad in list(NA_character_, 1, c("a", "b"), NULL, character())) {
    expect_error(q$send(bad), class = "rustipc_error_invalid_argument")
  }
  for (bad in list(-1, 1.5, 2^31, NA, "1", Inf)) {
    expect_error(q$send("m", priority = bad), class = "rustipc_error_invalid_argument")
  }
  expect_identical(q$count(), 0L)
})

test_that("several producers and consumers: every message exactly once", {
  q <- msg_queue(max_count = 50, max_nchar = 20)
  on.exit(q$remove())
  n <- 1500
  producer <- function(name, id, n) {
    q <- rustipc::msg_queue(name)
    for (i in seq_len(n)) q$send(sprintf("%d:%d", id, i), priority = i %% 3)
    TRUE
  }
  consumer <- function(name) {
    q <- rustipc::msg_queue(name)
    got <- character()
    repeat {
      m <- q$receive(timeout_ms = 20000)
      if (is.null(m) || m == "STOP") break
      got <- c(got, m)
    }
    got
  }
  cons <- lapply(1:2, function(i) bg(consumer, list(name = q$name)))
  prods <- lapply(1:3, function(i) bg(producer, list(name = q$name, id = i, n = n)))
  for (p in prods) p$wait(120000)
  for (p in prods) expect_true(p$get_result())
  for (i in 1:2) q$send("STOP", priority = 0)
  for (p in cons) p$wait(120000)
  got <- unlist(lapply(cons, function(p) p$get_result()))
  expected <- unlist(lapply(1:3, function(id) sprintf("%d:%d", id, seq_len(n))))
  expect_length(got, length(expected))
  expect_false(anyDuplicated(got) > 0)
  expect_setequal(got, expected)
})

# tools::pskill() is TerminateProcess() on Windows, whatever the signal.
test_that("peers killed with SIGKILL mid-traffic cannot wedge the queue", {
  q <- msg_queue(max_count = 20, max_nchar = 20)
  on.exit(q$remove())
  churn <- function(name) {
    q <- rustipc::msg_queue(name)
    cat("ready\n")
    repeat {
      q$send("churn", timeout_ms = 5)
      q$receive(timeout_ms = 5)
    }
  }
  for (round in 1:5) {
    ps <- lapply(1:2, function(i) bg_ready(churn, list(name = q$name)))
    Sys.sleep(runif(1, 0.05, 0.2))
    for (p in ps) tools::pskill(p$get_pid(), tools::SIGKILL)
    for (p in ps) p$wait(5000)
  }
  # Drain what the killed processes left, then the queue works as new.
  while (!is.null(q$receive(timeout_ms = 0))) NULL
  expect_identical(q$count(), 0L)
  for (i in 1:20) expect_true(q$send(as.character(i), timeout_ms = 1000))
  expect_false(q$send("full", timeout_ms = 0))
  got <- vapply(1:20, function(i) q$receive(timeout_ms = 1000), "")
  expect_identical(got, as.character(1:20))
})

test_that("SIGINT ends a blocked receive(), send() and with()", {
  q <- msg_queue(max_count = 1)
  on.exit(q$remove())
  for (what in c("receive", "with", "send")) {
    if (what == "send") q$send("fill")
    p <- bg_ready(function(name, what) {
      q <- rustipc::msg_queue(name)
      cat("ready\n")
      at <- NA
      r <- tryCatch({
        switch(what, receive = q$receive(), with = with(q, .), send = q$send("more"))
        "done"
      }, interrupt = function(e) { at <<- as.numeric(Sys.time()); "interrupted" })
      list(r = r, at = at)
    }, list(name = q$name, what = what))
    sent <- interrupt_when_blocked(p)
    expect_false(p$is_alive())
    res <- p$get_result()
    expect_identical(res$r, "interrupted")
    if (timing_checked()) expect_lt(res$at - sent, 0.25)  # within 250 ms of SIGINT
  }
  expect_identical(q$count(), 1L)
  expect_identical(q$receive(), "fill")
})

test_that("with() puts a message back when it cannot be bound to `.`", {
  q <- msg_queue()
  on.exit(q$remove())
  q$send("keep")
  f <- function() {
    . <- 0
    lockBinding(".", environment())
    with(q, .)
  }
  expect_error(f(), "locked binding")
  expect_identical(q$count(), 1L)
  expect_identical(q$receive(timeout_ms = 0), "keep")
})
