# An object whose name was removed never works on the removed object: its
# calls follow the name to the object that holds it now (same kind), or are
# a rustipc_error_not_found when the name does not exist.

test_that("methods after the object's own $remove() are not_found; $remove() is FALSE", {
  m <- mutex()
  s <- semaphore()
  q <- msg_queue()
  m$remove(); s$remove(); q$remove()
  expect_error(m$lock(timeout_ms = 0), class = "rustipc_error_not_found")
  expect_error(s$post(), class = "rustipc_error_not_found")
  expect_error(s$wait(timeout_ms = 0), class = "rustipc_error_not_found")
  expect_error(q$send("x"), class = "rustipc_error_not_found")
  expect_error(q$receive(timeout_ms = 0), class = "rustipc_error_not_found")
  expect_error(q$count(), class = "rustipc_error_not_found")
  err <- tryCatch(q$send("x"), error = identity)
  expect_match(conditionMessage(err), "was removed")
  expect_false(m$remove())
  expect_false(s$remove())
  expect_false(q$remove())
  expect_false(suppressWarnings(m$unlock()))
})

test_that("a mutex re-created under a name is never held twice", {
  name <- uid()
  m <- mutex(name)
  # Another process opens the name (and keeps its object) before the reset.
  p <- bg_ready(function(name) {
    m <- rustipc::mutex(name, assert = "exists")
    cat("ready\n")
    go <- rustipc::semaphore(paste0(name, "go"))
    go$wait()
    r <- m$lock(timeout_ms = 0)
    cat(if (r) "locked\n" else "busy\n")
    Sys.sleep(600)
  }, list(name = name))
  on.exit(p$kill(), add = TRUE)
  go <- semaphore(paste0(name, "go"))
  on.exit(go$remove(), add = TRUE)
  # The reset: remove and create again, and hold the new one.
  m$remove()
  m2 <- mutex(name, assert = "create")
  on.exit(m2$remove(), add = TRUE)
  expect_true(m2$lock(timeout_ms = 0))
  go$post()
  out <- ""
  wait_until(function() {
    out <<- paste0(out, p$read_output())
    grepl("locked|busy", out)
  }, 20, "the child's answer")
  expect_match(out, "busy")
  m2$unlock()
})

test_that("a re-created semaphore gets the posts of processes with old objects", {
  name <- uid()
  s <- semaphore(name)
  p <- bg_ready(function(name) {
    s <- rustipc::semaphore(name, assert = "exists")
    cat("ready\n")
    go <- rustipc::semaphore(paste0(name, "go"))
    go$wait()
    s$post()
    cat("posted\n")
    Sys.sleep(600)
  }, list(name = name))
  on.exit(p$kill(), add = TRUE)
  go <- semaphore(paste0(name, "go"))
  on.exit(go$remove(), add = TRUE)
  s$remove()
  s2 <- semaphore(name, assert = "create")
  on.exit(s2$remove(), add = TRUE)
  go$post()
  expect_true(s2$wait(timeout_ms = 20000))
})

test_that("a message sent through an old queue object reaches the new queue", {
  name <- uid()
  q <- msg_queue(name)
  p <- bg_ready(function(name) {
    q <- rustipc::msg_queue(name, assert = "exists")
    cat("ready\n")
    go <- rustipc::semaphore(paste0(name, "go"))
    go$wait()
    q$send("into the new queue")
    go$wait() # the parent has received it
    cat("sent:", q$receive(timeout_ms = 20000), "\n")
    Sys.sleep(600)
  }, list(name = name))
  on.exit(p$kill(), add = TRUE)
  go <- semaphore(paste0(name, "go"))
  on.exit(go$remove(), add = TRUE)
  q$remove()
  q2 <- msg_queue(name, assert = "create")
  on.exit(q2$remove(), add = TRUE)
  go$post()
  expect_identical(q2$receive(timeout_ms = 20000), "into the new queue")
  q2$send("back")
  go$post()
  out <- ""
  wait_until(function() {
    out <<- paste0(out, p$read_output())
    grepl("sent:", out)
  }, 20, "the child's answer")
  expect_match(out, "sent: back")
})

# A child blocked in `wait_code` on the object `name`; reports the class of
# the error that ends the wait, or "returned <value>".
bg_waiting <- function(kind, name) {
  bg(function(kind, name) {
    r <- tryCatch({
      v <- switch(kind,
        mutex = rustipc::mutex(name, assert = "exists")$lock(timeout_ms = 60000),
        semaphore = rustipc::semaphore(name, assert = "exists")$wait(timeout_ms = 60000),
        msg_queue = rustipc::msg_queue(name, assert = "exists")$receive(timeout_ms = 60000)
      )
      paste("returned", format(v))
    }, error = function(e) class(e)[1])
    r
  }, list(kind = kind, name = name))
}

test_that("a process waiting on an object that is removed stops waiting on the orphan", {
  for (kind in c("mutex", "semaphore", "msg_queue")) {
    name <- uid()
    obj <- switch(kind, mutex = mutex(name), semaphore = semaphore(name), msg_queue = msg_queue(name))
    if (kind == "mutex") obj$lock()
    p <- bg_waiting(kind, name)
    wait_until(function() blocked_in_wait(p$get_pid()) || !p$is_alive(), 20, "the child to wait")
    t0 <- Sys.time()
    obj$remove()
    p$wait(20000)
    elapsed <- as.numeric(Sys.time() - t0, units = "secs")
    expect_identical(p$get_result(), "rustipc_error_not_found", label = kind)
    if (timing_checked()) expect_lt(elapsed, 2)
    if (kind == "mutex") obj$unlock()
  }
})

test_that("a waiter follows the name to the re-created object", {
  for (kind in c("semaphore", "msg_queue")) {
    name <- uid()
    obj <- switch(kind, semaphore = semaphore(name), msg_queue = msg_queue(name))
    p <- bg_waiting(kind, name)
    wait_until(function() blocked_in_wait(p$get_pid()) || !p$is_alive(), 20, "the child to wait")
    # Stopped, the waiter cannot look at the name between the removal and
    # the new object's creation; it notices both when it continues.
    p$suspend()
    obj$remove()
    obj2 <- switch(kind, semaphore = semaphore(name, assert = "create"),
                   msg_queue = msg_queue(name, assert = "create"))
    if (kind == "semaphore") obj2$post() else obj2$send("hello")
    p$resume()
    p$wait(20000)
    want <- if (kind == "semaphore") "returned TRUE" else "returned hello"
    expect_identical(p$get_result(), want, label = kind)
    obj2$remove()
  }
})

test_that("unlock() releases a lock on a mutex that was removed since", {
  name <- uid()
  m <- mutex(name)
  m$lock()
  m$remove()
  m2 <- mutex(name)
  on.exit(m2$remove())
  expect_true(m$unlock())
  # The new one was never ours.
  expect_true(m2$lock(timeout_ms = 0))
  expect_true(m2$unlock())
})

test_that("an object marked removed but still named (a removal cut short) is absent: no wait spins on it", {
  dir <- rustipc:::object_dir_used()
  mark_removed <- function(name) {
    # The header's `removed` word (offset 32), as $remove() sets it before
    # unlinking: here the unlink never happens, as when the remover dies.
    con <- file(file.path(dir, name), "r+b")
    on.exit(close(con))
    seek(con, 32, rw = "write")
    writeBin(1L, con, size = 4, endian = "little")
  }
  s <- semaphore(value = 0)
  q <- msg_queue()
  mark_removed(s$name)
  mark_removed(q$name)
  t0 <- Sys.time()
  expect_error(s$wait(timeout_ms = 200), class = "rustipc_error_not_found")
  expect_error(q$receive(timeout_ms = 200), class = "rustipc_error_not_found")
  expect_lt(as.numeric(Sys.time() - t0, units = "secs"), 5)
  expect_error(semaphore(s$name, assert = "exists"), class = "rustipc_error_not_found")
  # The half-removed files are gone: the name can be made again.
  s2 <- semaphore(s$name, assert = "create", value = 1)
  expect_true(s2$wait(timeout_ms = 0))
  expect_true(s2$remove())
  expect_false(file.exists(file.path(dir, q$name)))
  expect_false(q$remove())
})
