# The hot calls take their arguments unchecked into native code, which
# accepts only plain forms and hands everything else to R's checks
# (R/hot.R).  These tests pin down that the two paths agree: visibility,
# conversions, classed errors for values of any type, and nothing done
# before an argument is refused.

test_that("results and visibility are interprocess' on the native path", {
  m <- mutex(); s <- semaphore(); q <- msg_queue()
  on.exit(invisible(c(m$remove(), s$remove(), q$remove())))
  expect_true(expect_invisible(m$lock()))
  expect_true(expect_invisible(m$unlock()))
  expect_true(expect_visible(m$lock(timeout_ms = 0)))
  expect_true(expect_invisible(m$unlock(warn = FALSE)))
  expect_false(expect_visible(m$unlock(warn = FALSE)))
  expect_warning(expect_false(m$unlock()), "not locked by this process")
  expect_true(expect_invisible(m$lock(TRUE)))
  expect_true(m$unlock())
  expect_true(expect_invisible(s$post()))
  expect_true(expect_invisible(s$wait()))
  expect_false(expect_visible(s$wait(timeout_ms = 0)))
  expect_true(expect_invisible(q$send("a")))
  expect_true(expect_visible(q$send("b", timeout_ms = 10)))
  expect_identical(expect_visible(q$receive()), "a")
  expect_identical(q$receive(timeout_ms = 0L), "b")
  expect_null(expect_visible(q$receive(timeout_ms = 0)))
})

test_that("integer, logical and huge arguments mean what they meant", {
  m <- mutex(); s <- semaphore(); q <- msg_queue(max_count = 3)
  on.exit(invisible(c(m$remove(), s$remove(), q$remove())))
  expect_true(m$lock(timeout_ms = 5L))            # integer: native path
  expect_false(callr::r(function(n) rustipc::mutex(n)$lock(timeout_ms = TRUE), list(m$name),
                        libpath = .libPaths()))   # TRUE is 1 ms: R's path
  expect_true(m$unlock())
  expect_false(s$wait(timeout_ms = FALSE))        # FALSE is 0 ms
  expect_true(q$send("x", timeout_ms = 0L, priority = 7L))
  expect_true(q$send("y", priority = TRUE))       # TRUE is priority 1
  expect_true(q$send("z", priority = 2147483647))
  expect_identical(q$receive(), "z")
  expect_identical(q$receive(), "x")
  expect_identical(q$receive(), "y")
  # Classed values R's checks accept are taken as before.
  expect_true(m$lock(shared = structure(TRUE, class = "foo"), timeout_ms = structure(1, class = "foo")))
  expect_true(m$unlock(warn = structure(TRUE, class = "foo")))
  expect_true(q$send(structure("c", class = "foo"), timeout_ms = 0))
  expect_identical(q$receive(), "c")
  expect_true(m$lock(timeout_ms = 1e300))         # finite, so visible
  expect_true(m$unlock())
})

test_that("values of every type are classed errors and change nothing", {
  m <- mutex(); s <- semaphore(); q <- msg_queue()
  on.exit(invisible(c(m$remove(), s$remove(), q$remove())))
  odd <- list(NULL, sum, quote(x), quote(f(x)), globalenv(), list(1), 1i, as.raw(1),
              NA_integer_, c(a = -1L), factor("a"), structure("1", class = "foo"))
  for (v in odd) {
    expect_error(m$lock(shared = v), class = "rustipc_error_invalid_argument")
    if (!is.logical(v)) expect_error(m$lock(timeout_ms = v), class = "rustipc_error_invalid_argument")
    expect_error(m$unlock(warn = v), class = "rustipc_error_invalid_argument")
    expect_error(s$wait(timeout_ms = v), class = "rustipc_error_invalid_argument")
    expect_error(q$receive(timeout_ms = v), class = "rustipc_error_invalid_argument")
    if (!is.character(v)) expect_error(q$send(v), class = "rustipc_error_invalid_argument")
    expect_error(q$send("m", priority = v), class = "rustipc_error_invalid_argument")
  }
  # Nothing was locked, taken or sent on the way.
  expect_false(m$unlock(warn = FALSE))
  expect_identical(q$count(), 0L)
  expect_false(s$wait(timeout_ms = 0))
  # A refused argument after a good one: the lock is not taken.
  expect_error(m$lock(shared = FALSE, timeout_ms = -1), class = "rustipc_error_invalid_argument")
  expect_false(m$unlock(warn = FALSE))
})

test_that("text of every encoding arrives as UTF-8 text", {
  q <- msg_queue()
  on.exit(q$remove())
  utf8 <- "caf\u00e9 \u65e5\u672c"
  latin1 <- iconv("caf\u00e9", "UTF-8", "latin1")
  expect_identical(Encoding(latin1), "latin1")
  bytes <- utf8
  Encoding(bytes) <- "bytes"
  for (msg in list(utf8, latin1, bytes, "plain ascii", "")) {
    expect_true(q$send(msg, timeout_ms = 0))
    got <- q$receive(timeout_ms = 0)
    expect_identical(enc2utf8(got), enc2utf8(if (identical(msg, bytes)) utf8 else msg))
  }
  bad <- "caf\xe9"
  Encoding(bad) <- "UTF-8"
  expect_error(q$send(bad), class = "rustipc_error_invalid_argument")
  expect_identical(q$count(), 0L)
})

test_that("errors of the hot calls are classed and name the object's problem", {
  m <- mutex(); s <- semaphore(); q <- msg_queue(max_nchar = 3)
  name <- s$name
  on.exit(invisible(c(m$remove(), q$remove())))
  expect_error(q$send("toolong"), class = "rustipc_error_too_long")
  expect_true(s$remove())
  expect_error(s$post(), class = "rustipc_error_not_found")
  expect_error(s$wait(timeout_ms = 0), class = "rustipc_error_not_found")
})
