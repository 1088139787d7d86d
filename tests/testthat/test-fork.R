# A child made by fork must not keep its parent's token alive: what a
# SIGKILLed parent held comes back while its fork child still runs.  Unix
# only (Windows has no fork).

# A child process that takes what `take` says, forks a grandchild that
# sleeps (parallel::mcparallel), reports the grandchild's pid and blocks.
fork_holder <- function(take, name) {
  bg_ready(function(take, name) {
    rustipc::uid() # the process token is claimed before the fork
    fork <- function() {
      parallel::mcparallel(Sys.sleep(120))
      cat("ready\n")
      Sys.sleep(120)
    }
    if (take == "exclusive") { m <- rustipc::mutex(name); m$lock(); fork() }
    if (take == "shared") { m <- rustipc::mutex(name); m$lock(shared = TRUE); fork() }
    if (take == "message") {
      q <- rustipc::msg_queue(name, assert = "exists")
      with(q, fork())
    }
  }, list(take = take, name = name))
}

for (take in c("exclusive", "shared", "message")) {
  test_that(sprintf("a SIGKILLed parent's %s hold comes back while its fork child runs", take), {
    skip_on_os("windows")
    skip_on_cran()
    if (take == "message") {
      obj <- msg_queue()
      obj$send("job")
    } else {
      obj <- mutex()
    }
    on.exit(obj$remove(), add = TRUE)
    p <- fork_holder(take, obj$name)
    on.exit(p$kill(), add = TRUE)
    kids <- ps::ps_children(ps::ps_handle(p$get_pid()))
    expect_length(kids, 1L)
    gc_pid <- ps::ps_pid(kids[[1]])
    on.exit(tools::pskill(gc_pid, tools::SIGKILL), add = TRUE)
    # Held by the child: not to be had here.
    if (take == "message") {
      expect_identical(obj$count(), 0L)
    } else {
      expect_false(obj$lock(timeout_ms = 0))
    }
    # SIGKILL to the child alone (processx's $kill() would take the whole
    # process group, the fork child with it).
    tools::pskill(p$get_pid(), tools::SIGKILL)
    wait_until(function() !p$is_alive(), 10, "the child to die")
    t0 <- Sys.time()
    if (take == "message") {
      got <- obj$receive(timeout_ms = 10000)
      expect_identical(got, "job")
    } else {
      expect_true(obj$lock(timeout_ms = 10000))
      expect_true(obj$unlock())
    }
    waited <- as.numeric(Sys.time() - t0, units = "secs")
    # The fork child is still running all along (not a zombie).
    expect_true(ps::ps_status(ps::ps_handle(gc_pid)) %in% c("sleeping", "running"))
    if (timing_checked()) expect_lt(waited, 2)
  })
}
