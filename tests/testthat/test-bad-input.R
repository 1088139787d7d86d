# The bad-input matrix: every argument of every exported function and method
# gets NULL, NA, wrong types, wrong lengths, out-of-range and malformed
# values.  Each must raise a classed rustipc error whose message names the
# argument, and must leave the object usable.

bad_flag <- list(NULL, NA, "TRUE", 1, c(TRUE, FALSE), logical())
# (TRUE and FALSE are 1 and 0 ms, as in interprocess.)
bad_timeout <- list(NULL, NA, NaN, -1, -Inf, "1", c(1, 2), numeric(), c(TRUE, FALSE))
bad_name <- list(NULL, NA, 1, c("a", "b"), "", "a/b", "..", "a b", "\u00e9t\u00e9",
                 "1abc", "_x", strrep("a", 251), "a.b", character())
bad_assert <- list(NA, "foo", 1, c("create", "exists"), TRUE, "")
bad_whole <- function(lo) list(NULL, NA, lo - 1, 1.5, Inf, -Inf, 2^31, 1e10, "1", c(1, 2), numeric())
bad_path <- list(NULL, NA_character_, 1, c("a", "b"), character(), TRUE)

expect_bad <- function(expr, arg) {
  err <- tryCatch(expr, error = identity)
  expect_s3_class(err, "rustipc_error")
  expect_match(conditionMessage(err), paste0("`", arg, "`"), fixed = TRUE)
}

test_that("constructors reject every bad argument", {
  for (ctor in list(mutex, semaphore, msg_queue)) {
    for (v in bad_name) expect_bad(ctor(name = v), "name")
    for (v in bad_assert) expect_bad(ctor(assert = v), "assert")
    for (v in bad_flag) expect_bad(ctor(cleanup = v), "cleanup")
    for (v in bad_path[-1]) expect_bad(ctor(file = v), "file") # NULL: the default
  }
  for (v in bad_whole(0)) expect_bad(semaphore(value = v), "value")
  for (v in bad_whole(1)) expect_bad(msg_queue(max_count = v), "max_count")
  for (v in bad_whole(1)) expect_bad(msg_queue(max_nchar = v), "max_nchar")
  for (v in list(NULL, NA, NA_character_, list(), c(1, 2), sum, character())) expect_bad(hash(v), "str")
  expect_identical(setdiff(shm_files(), rustipc_shm_before), character())
})

test_that("mutex methods reject bad arguments and stay usable", {
  m <- mutex()
  on.exit(m$remove())
  for (v in bad_flag) expect_bad(m$lock(shared = v), "shared")
  for (v in bad_timeout) expect_bad(m$lock(timeout_ms = v), "timeout_ms")
  for (v in bad_flag) expect_bad(m$unlock(warn = v), "warn")
  for (v in bad_timeout) expect_bad(with(m, 1, timeout_ms = v), "timeout_ms")
  for (v in bad_flag) expect_bad(with(m, 1, shared = v), "shared")
  expect_true(m$lock(timeout_ms = 2^40))
  expect_true(m$unlock())
})

test_that("semaphore methods reject bad arguments and stay usable", {
  s <- semaphore()
  on.exit(s$remove())
  for (v in bad_timeout) expect_bad(s$wait(timeout_ms = v), "timeout_ms")
  for (v in bad_timeout) expect_bad(with(s, 1, timeout_ms = v), "timeout_ms")
  s$post()
  expect_true(s$wait(timeout_ms = 1e10))
  expect_false(s$wait(timeout_ms = 0))
})

test_that("msg_queue methods reject bad arguments and stay usable", {
  q <- msg_queue()
  on.exit(q$remove())
  for (v in list(NULL, NA_character_, 1, c("a", "b"), character(), TRUE, list("a"))) {
    expect_bad(q$send(v), "msg")
  }
  for (v in bad_timeout) expect_bad(q$send("m", timeout_ms = v), "timeout_ms")
  for (v in bad_whole(0)) expect_bad(q$send("m", priority = v), "priority")
  for (v in bad_timeout) expect_bad(q$receive(timeout_ms = v), "timeout_ms")
  for (v in bad_timeout) expect_bad(with(q, 1, timeout_ms = v), "timeout_ms")
  expect_identical(q$count(), 0L)
  expect_true(q$send("ok", timeout_ms = 2^40))
  expect_identical(q$receive(timeout_ms = 2^40), "ok")
})

test_that("lock() and unlock() reject bad arguments", {
  path <- tempfile()
  on.exit(unlink(path))
  for (v in bad_path) expect_bad(lock(v), "path")
  for (v in bad_flag) expect_bad(lock(path, exclusive = v), "exclusive")
  for (v in bad_timeout) expect_bad(lock(path, timeout = v), "timeout")
  for (v in list(NULL, NA, 1, "lock", list(handle = 1))) expect_bad(unlock(v), "lock")
  l <- lock(path, timeout = 2^40)
  expect_s3_class(l, "rustipc_lock")
  unlock(l)
})

test_that("a Rust panic in an entry point is a classed internal error, and the session goes on", {
  f <- function() {
    r <- .Call(rustipc:::rs_test_panic)
    if (is.list(r)) rustipc:::rs_fail(r)
    r
  }
  e <- tryCatch(f(), error = function(e) e)
  expect_s3_class(e, "rustipc_error_internal")
  expect_s3_class(e, "rustipc_error")
  expect_match(conditionMessage(e), "rs_test_panic was called", fixed = TRUE)
  # The process goes on: native calls still work.
  m <- mutex()
  expect_true(m$lock(timeout_ms = 0))
  expect_true(m$unlock())
  expect_true(m$remove())
})
