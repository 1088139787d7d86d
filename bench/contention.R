# The contention table of `make bench`: 1, 2, 4 and 8 processes on one mutex,
# one file lock (rustipc's lock() and, when installed, filelock's) and one
# queue (half producers, half consumers), each for a fixed time; the mutex
# and the queue also with interprocess when it is installed.  Reports
# throughput, the median and 99th percentile of the time one operation took
# (waiting included), and fairness: the fewest and most operations any one
# process completed.  Sourced by bench/run.R; returns a data frame.
contention <- function(secs = 1.5) {
  one <- function(kind, n) {
    pkg <- if (startsWith(kind, "interprocess")) "interprocess" else "rustipc"
    ns <- asNamespace(pkg)
    m <- ns$mutex(); q <- ns$msg_queue(max_count = 64); go <- rustipc::semaphore()
    path <- tempfile()
    ps <- lapply(seq_len(n), function(i) callr::r_bg(function(kind, pkg, m, q, go, path, secs, role) {
      ns <- asNamespace(pkg)
      m <- ns$mutex(m); q <- ns$msg_queue(q); go <- rustipc::semaphore(go)
      lat <- numeric(0); k <- 0
      go$wait()
      end <- proc.time()[["elapsed"]] + secs
      while (proc.time()[["elapsed"]] < end) {
        t <- as.numeric(Sys.time())
        ok <- switch(kind,
          mutex = , interprocess_mutex = { m$lock(); m$unlock() },
          lock = { l <- rustipc::lock(path); rustipc::unlock(l) },
          filelock = { l <- filelock::lock(path); filelock::unlock(l) },
          queue = , interprocess_queue = if (role == "p") q$send("x", timeout_ms = 10) else !is.null(q$receive(timeout_ms = 10)))
        if (isTRUE(ok)) { k <- k + 1; if (k %% 4 == 1) lat <- c(lat, as.numeric(Sys.time()) - t) }
      }
      list(k = k, lat = lat)
    }, list(kind, pkg, m$name, q$name, go$name, path, secs, if (i %% 2) "p" else "c"), libpath = .libPaths()))
    Sys.sleep(1) # let every process load rustipc before the start signal
    for (i in seq_len(n)) go$post()
    res <- lapply(ps, function(p) { p$wait(60000); p$get_result() })
    invisible(c(m$remove(), q$remove(), go$remove())); unlink(path)
    ks <- vapply(res, `[[`, 0, "k"); lat <- unlist(lapply(res, `[[`, "lat")) * 1e6
    data.frame(primitive = kind, processes = n, ops_per_second = round(sum(ks) / secs),
               p50_us = round(median(lat)), p99_us = round(quantile(lat, 0.99)),
               fewest = min(ks), most = max(ks))
  }
  ip <- requireNamespace("interprocess", quietly = TRUE)
  kinds <- c("mutex", if (ip) "interprocess_mutex", "lock",
             if (requireNamespace("filelock", quietly = TRUE)) "filelock",
             "queue", if (ip) "interprocess_queue")
  # A queue needs a producer and a consumer: from 2 processes on.
  do.call(rbind, lapply(kinds, function(kind)
    do.call(rbind, lapply(if (endsWith(kind, "queue")) c(2, 4, 8) else c(1, 2, 4, 8), function(n) one(kind, n)))))
}
