# SIGINT storms: thousands of interrupts at random points must neither leave
# a lock or count held nor lose or duplicate a message.  Unix only: on
# Windows tools::pskill() terminates the process whatever the signal, and
# a Ctrl-C event per interrupt (processx's $interrupt()) is far too slow
# for a storm.

# Send `n` SIGINTs to process `pid`, 0.2-2 ms apart.
storm <- function(pid, n) {
  for (i in seq_len(n)) {
    tools::pskill(pid, tools::SIGINT)
    Sys.sleep(runif(1, 0.0002, 0.002))
  }
}

# A child Rscript running `code` with `args` bound.  The code runs inside
# suspendInterrupts(), creates the file `ready` once it is in it, writes
# its result (saveRDS) to `result` and quits from inside it: interrupts are
# acted on only where the code allows them (an interrupt during R's own
# start-up or exit code would otherwise end the child).  R writes a newline
# to stderr for each interrupt it acts on (as for Ctrl-C at the console),
# so stderr goes to a file, which no pipe buffer can fill.
bg_storm_target <- function(code, args) {
  files <- list(ready = tempfile(), result = tempfile(), stop = tempfile(), err = tempfile())
  args <- c(args, files)
  script <- tempfile(fileext = ".R")
  writeLines(c(
    sprintf("args <- readRDS('%s')", save_args <- tempfile()),
    "list2env(args, globalenv())",
    "suspendInterrupts({",
    "  file.create(ready)",
    "  res <- local({", code, "  })",
    "  saveRDS(res, result)",
    "  quit(save = 'no')",
    "})"
  ), script)
  saveRDS(args, save_args)
  p <- processx::process$new(file.path(R.home("bin"), "Rscript"), c("--vanilla", script),
                             env = c("current", R_LIBS = paste(.libPaths(), collapse = ":")),
                             stdout = NULL, stderr = files$err)
  wait_until(function() file.exists(files$ready) || !p$is_alive(), 30, "the child to start")
  list(p = p, files = files, cleanup = c(script, save_args, unlist(files)))
}

# Tell the child to stop, and return what it saved.
finish <- function(t) {
  file.create(t$files$stop)
  t$p$wait(30000)
  if (!file.exists(t$files$result)) {
    fail(paste("the child saved no result; stderr:", paste(readLines(t$files$err, warn = FALSE), collapse = "\n")))
    return(NULL)
  }
  readRDS(t$files$result)
}

test_that("with() on a mutex never leaves the lock held under a SIGINT storm", {
  skip_on_cran()
  skip_on_os("windows")
  m <- mutex()
  on.exit(m$remove())
  code <- '
      m <- rustipc::mutex(name, assert = "exists")
      n <- 0; ints <- 0; leaks <- 0
      # The outer tryCatch() catches an interrupt that R acts on while it
      # unwinds from another (R may, in on.exit code); the loop goes on.
      while (!file.exists(stop)) tryCatch(while (!file.exists(stop)) {
        r <- tryCatch(allowInterrupts(with(m, NULL)), interrupt = function(e) "int")
        if (identical(r, "int")) ints <- ints + 1 else n <- n + 1
        if (m$unlock(warn = FALSE)) leaks <- leaks + 1
      }, interrupt = function(e) NULL)
      c(n, ints, leaks)'
  t <- bg_storm_target(code, list(name = m$name))
  stop <- t$files$stop
  on.exit({ t$p$kill(); unlink(t$cleanup) }, add = TRUE)
  # A contender, so that some interrupts land in waits.
  contender <- bg(function(name, stop) {
    m <- rustipc::mutex(name, assert = "exists")
    while (!file.exists(stop)) { m$lock(); m$unlock() }
  }, list(name = m$name, stop = stop))
  on.exit(contender$kill(), add = TRUE)
  storm(t$p$get_pid(), 10000)
  res <- finish(t)
  contender$wait(10000)
  expect_gt(res[1], 0)
  expect_gt(res[2], 1000) # interrupts that ended a with()
  expect_identical(res[3], 0) # locks left held
})

test_that("with() on a semaphore or a queue hands every count and message it takes to expr, under a SIGINT storm", {
  skip_on_cran()
  skip_on_os("windows")
  s <- semaphore(value = 1e6)
  q <- msg_queue(max_count = 2e5, max_nchar = 8)
  on.exit({ s$remove(); q$remove() })
  for (i in 1:2e5) q$send(as.character(i))
  # The child takes counts and messages with with() while interrupted at
  # random; rustipc counts what it handed to an `expr`.
  code <- '
      s <- rustipc::semaphore(sname, assert = "exists")
      q <- rustipc::msg_queue(qname, assert = "exists")
      ints <- 0
      while (!file.exists(stop)) tryCatch(while (!file.exists(stop)) {
        r <- tryCatch(allowInterrupts({
          with(s, NULL, timeout_ms = 0)
          with(q, NULL, timeout_ms = 0)
        }), interrupt = function(e) "int")
        if (identical(r, "int")) ints <- ints + 1
      }, interrupt = function(e) NULL)
      list(ints = ints, handed = .External(rustipc:::rs_with_stats))'
  t <- bg_storm_target(code, list(sname = s$name, qname = q$name))
  on.exit({ t$p$kill(); unlink(t$cleanup) }, add = TRUE)
  storm(t$p$get_pid(), 10000)
  res <- finish(t)
  expect_gt(res$ints, 1000)
  taken_counts <- 1e6 - (function() { v <- 0; while (s$wait(timeout_ms = 0)) v <- v + 1; v })()
  left <- q$count()
  expect_gt(taken_counts, 0)
  expect_identical(res$handed, taken_counts + (2e5 - left))
  # No slot stayed taken: the queue takes max_count messages again.
  while (!is.null(q$receive(timeout_ms = 0))) NULL
  for (i in 1:2e5) if (!q$send("x", timeout_ms = 0)) break
  expect_identical(q$count(), as.integer(2e5))
})

test_that("the retry pattern loses and duplicates no message under SIGINT storms", {
  skip_on_cran()
  skip_on_os("windows")
  n <- 200000
  q <- msg_queue(max_count = 50, max_nchar = 10)
  on.exit(q$remove())
  # The documented pattern: the call and its bookkeeping inside
  # suspendInterrupts(); rustipc's waits stay interruptible there, and end
  # on an interrupt only having taken nothing, so retrying is exact.
  sender <- bg_storm_target('
      q <- rustipc::msg_queue(name, assert = "exists")
      ints <- 0
      for (i in seq_len(n)) {
        repeat {
          ok <- tryCatch(q$send(as.character(i)), interrupt = function(e) FALSE)
          if (ok) break
          ints <- ints + 1
        }
      }
      ints', list(name = q$name, n = n))
  on.exit({ sender$p$kill(); unlink(sender$cleanup) }, add = TRUE)
  receiver <- bg_storm_target('
      q <- rustipc::msg_queue(name, assert = "exists")
      got <- character(n)
      k <- 0; ints <- 0
      while (k < n) {
        m <- tryCatch(q$receive(), interrupt = function(e) NULL)
        if (is.null(m)) ints <- ints + 1 else { k <- k + 1; got[k] <- m }
      }
      list(got = got, ints = ints)', list(name = q$name, n = n))
  on.exit({ receiver$p$kill(); unlink(receiver$cleanup) }, add = TRUE)
  sent_ints <- 0
  running <- function(t) t$p$is_alive() && !file.exists(t$files$result)
  repeat {
    targets <- Filter(running, list(sender, receiver))
    if (!length(targets)) break
    for (t in targets) tools::pskill(t$p$get_pid(), tools::SIGINT)
    sent_ints <- sent_ints + length(targets)
    Sys.sleep(runif(1, 0.00005, 0.0003))
  }
  s <- finish(sender)
  r <- finish(receiver)
  expect_gt(sent_ints, 10000)
  expect_gt(s + r$ints, 100) # interrupts that ended a wait and were retried
  expect_identical(anyDuplicated(r$got), 0L)
  expect_setequal(r$got, as.character(seq_len(n)))
  expect_identical(q$count(), 0L)
})
