# make bench: throughput and hand-off latency, reported as ratios to an empty
# native call and to filelock, all measured in this one run.
library(rustipc)
ns <- asNamespace("rustipc")
rate <- function(f, n) { f(); t <- proc.time()[["elapsed"]]; f(n); n / (proc.time()[["elapsed"]] - t) }
loop <- function(body) { body <- substitute(body)
  eval(bquote(function(n = 10) for (i in seq_len(n)) .(body)), parent.frame()) }
N <- 100000
rows <- list()
add <- function(what, per_sec, note = "") rows[[length(rows) + 1]] <<- data.frame(
  benchmark = what, per_second = round(per_sec), note = note)

noop <- rate(loop(.Call(ns$wrap__rs_noop)), N)
add("empty native call", noop, "the floor")
add("uid()", rate(loop(uid()), 50000))
add("hash(\"some/path\")", rate(loop(hash("some/path")), N))

m <- mutex()
pair <- rate(loop({ m$lock(); m$unlock() }), N)
add("mutex $lock() + $unlock()", pair, sprintf("%.1fx the cost of two empty calls", noop / (2 * pair)))
invisible(m$remove())
s <- semaphore()
add("semaphore $post() + $wait()", rate(loop({ s$post(); s$wait() }), N))
invisible(s$remove())
q <- msg_queue()
msg <- strrep("x", 100)
add("msg_queue $send() + $receive(), 100 chars", rate(loop({ q$send(msg); q$receive() }), N))
invisible(q$remove())
path <- tempfile()
ours <- rate(loop(unlock(lock(path))), 50000)
theirs <- if (requireNamespace("filelock", quietly = TRUE))
  rate(loop(filelock::unlock(filelock::lock(path))), 50000) else NA
add("unlock(lock(path))", ours, sprintf("%.1fx filelock", ours / theirs))
add("filelock::unlock(filelock::lock(path))", theirs, "Debian's r-cran-filelock")

# Two processes ping-ponging over two queues.
a <- msg_queue(); b <- msg_queue()
p <- callr::r_bg(function(a, b) {
  a <- rustipc::msg_queue(a); b <- rustipc::msg_queue(b)
  repeat { m <- a$receive(); if (m == "STOP") break; b$send(m) }
}, list(a$name, b$name), libpath = .libPaths())
pp <- function(n = 1) for (i in seq_len(n)) { a$send(msg); b$receive() }
rt <- rate(pp, 20000)
a$send("STOP"); p$wait(10000)
add("msg_queue ping-pong round trips (2 processes)", rt, sprintf("%.1f us per round trip", 1e6 / rt))
invisible(c(a$remove(), b$remove()))

# Semaphore ping-pong.
a <- semaphore(); b <- semaphore()
p <- callr::r_bg(function(a, b, n) {
  a <- rustipc::semaphore(a); b <- rustipc::semaphore(b)
  for (i in seq_len(n + 1)) { a$wait(); b$post() }
}, list(a$name, b$name, 20001), libpath = .libPaths())
sp <- rate(function(n = 1) for (i in seq_len(n)) { a$post(); b$wait() }, 20000)
p$wait(10000)
add("semaphore ping-pong round trips (2 processes)", sp, sprintf("%.1f us per round trip", 1e6 / sp))
invisible(c(a$remove(), b$remove()))

# Hand-off latency: a waiter in another process blocked in lock(); we note
# the time just before releasing, it notes the time it got the lock.
handoff <- function(kind, k = 41) {
  path <- tempfile(); m <- mutex(); sems <- list(start = semaphore(), ready = semaphore(), fin = semaphore())
  take <- function() if (kind == "mutex") m$lock() else if (kind == "rustipc") rustipc::lock(path) else filelock::lock(path)
  give <- function(l) if (kind == "mutex") m$unlock() else if (kind == "rustipc") rustipc::unlock(l) else filelock::unlock(l)
  p <- callr::r_bg(function(kind, name, path, sems, k) {
    m <- rustipc::mutex(name); s <- lapply(sems, rustipc::semaphore)
    got <- numeric(k)
    for (i in seq_len(k)) {
      s$start$wait(); s$ready$post()
      l <- if (kind == "mutex") m$lock() else if (kind == "rustipc") rustipc::lock(path) else filelock::lock(path)
      got[i] <- as.numeric(Sys.time())
      if (kind == "mutex") m$unlock() else if (kind == "rustipc") rustipc::unlock(l) else filelock::unlock(l)
      s$fin$post()
    }
    got
  }, list(kind, m$name, path, lapply(sems, `[[`, "name"), k), libpath = .libPaths())
  rel <- numeric(k)
  for (i in seq_len(k)) {
    l <- take(); sems$start$post(); sems$ready$wait()
    Sys.sleep(0.002) # let the waiter block in the kernel
    rel[i] <- as.numeric(Sys.time())
    give(l)
    sems$fin$wait()
  }
  p$wait(30000)
  d <- (p$get_result() - rel) * 1e6
  invisible(c(m$remove(), vapply(sems, function(s) s$remove(), TRUE)))
  unlink(path)
  d[-1]
}
for (kind in c("mutex", "rustipc", "filelock")) {
  d <- handoff(kind)
  add(sprintf("hand-off latency: %s", c(mutex = "mutex", rustipc = "lock()", filelock = "filelock::lock()")[kind]),
      NA, sprintf("median %.0f us, 90th percentile %.0f us", median(d), quantile(d, 0.9)))
}

options(width = 200)
tab <- do.call(rbind, rows)
print(tab, row.names = FALSE, right = FALSE)
