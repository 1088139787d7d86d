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
# What the API itself costs: the interprocess-style object is a classed
# list of closures, and R's `$` on a classed object looks for S3 methods.
h <- environment(m$lock)$h
native <- rate(loop({ .Call(ns$wrap__rs_mutex_lock, h, FALSE, Inf); .Call(ns$wrap__rs_mutex_unlock, h) }), N)
add("  of which: the two native calls", native, sprintf("%.1fx the cost of two empty calls", noop / (2 * native)))
lookups <- rate(loop({ m$lock; m$unlock }), N)
add("  of which: looking up m$lock and m$unlock", lookups, sprintf("%.1fx the cost of two empty calls", noop / (2 * lookups)))
invisible(m$remove())
s <- semaphore()
add("semaphore $post() + $wait()", rate(loop({ s$post(); s$wait() }), N))
invisible(s$remove())
q <- msg_queue()
msg <- strrep("x", 100)
add("msg_queue $send() + $receive(), 100 chars", rate(loop({ q$send(msg); q$receive() }), N))
big <- msg_queue(max_count = 1e6, max_nchar = 10)
small <- msg_queue(max_count = 100, max_nchar = 10)
msg10 <- strrep("x", 10)
for (i in 1:50) { big$send(msg10, priority = i %% 7); small$send(msg10, priority = i %% 7) }
r_small <- rate(loop({ small$send(msg10); small$receive() }), N)
r_big <- rate(loop({ big$send(msg10); big$receive() }), N)
add("msg_queue $send() + $receive(), max_count = 100", r_small, "10 chars, 50 messages waiting")
add("msg_queue $send() + $receive(), max_count = 1e6", r_big,
    sprintf("same; %.2fx the time of max_count = 100 (O(log max_count))", r_small / r_big))
small$remove()
big$remove()
invisible(q$remove())
path <- tempfile()
# Alternating rounds, medians: this machine's speed drifts within seconds.
has_filelock <- requireNamespace("filelock", quietly = TRUE)
rounds <- replicate(7, c(rate(loop(unlock(lock(path))), 10000),
                         if (has_filelock) rate(loop(filelock::unlock(filelock::lock(path))), 10000) else NA))
ours <- median(rounds[1, ]); theirs <- median(rounds[2, ])
add("unlock(lock(path))", ours, sprintf("%.1fx filelock (median of 7 alternating rounds)", ours / theirs))
add("filelock::unlock(filelock::lock(path))", theirs, "Debian's r-cran-filelock")
unlink(path)

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

# Hand-off latency: a waiter in another process is blocked in lock() (or
# in a semaphore's wait()); we note the time just before releasing (or
# posting), it notes the time it got through.
handoff <- function(kind, k = 41) {
  path <- tempfile(); m <- mutex(); target <- semaphore()
  sems <- list(start = semaphore(), ready = semaphore(), fin = semaphore())
  take <- switch(kind, mutex = function() m$lock(), rustipc = function() rustipc::lock(path),
                 filelock = function() filelock::lock(path), semaphore = function() NULL)
  give <- switch(kind, mutex = function(l) m$unlock(), rustipc = function(l) rustipc::unlock(l),
                 filelock = function(l) filelock::unlock(l), semaphore = function(l) target$post())
  p <- callr::r_bg(function(kind, name, target, path, sems, k) {
    m <- rustipc::mutex(name); target <- rustipc::semaphore(target); s <- lapply(sems, rustipc::semaphore)
    got <- numeric(k)
    for (i in seq_len(k)) {
      s$start$wait(); s$ready$post()
      l <- switch(kind, mutex = m$lock(), rustipc = rustipc::lock(path), filelock = filelock::lock(path),
                  semaphore = target$wait())
      got[i] <- as.numeric(Sys.time())
      switch(kind, mutex = m$unlock(), rustipc = rustipc::unlock(l), filelock = filelock::unlock(l), NULL)
      s$fin$post()
    }
    got
  }, list(kind, m$name, target$name, path, lapply(sems, `[[`, "name"), k), libpath = .libPaths())
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
  invisible(c(m$remove(), target$remove(), vapply(sems, function(s) s$remove(), TRUE)))
  unlink(path)
  d[-1]
}
label <- c(mutex = "mutex", semaphore = "semaphore post -> wait",
           rustipc = "lock()", filelock = "filelock::lock()")
for (kind in c("mutex", "semaphore", "rustipc", "filelock")) {
  d <- handoff(kind)
  add(sprintf("hand-off latency: %s", label[kind]),
      NA, sprintf("median %.0f us, 90th percentile %.0f us", median(d), quantile(d, 0.9)))
}
# The same for lock() and filelock with a CPU hog on each core: a waiter
# that must first be scheduled (0.1.0 started a helper thread per wait,
# which under load first ran milliseconds later) shows it here.
hogs <- lapply(seq_len(parallel::detectCores()), function(i)
  callr::r_bg(function() repeat NULL, libpath = .libPaths()))
for (kind in c("rustipc", "filelock")) {
  d <- handoff(kind)
  add(sprintf("hand-off latency: %s, CPU hogs running", label[kind]),
      NA, sprintf("median %.0f us, 90th percentile %.0f us", median(d), quantile(d, 0.9)))
}
for (h in hogs) h$kill()

# The floor for the rows above: the same protocol in C, without R.
cc <- Sys.which(c("cc", "gcc"))
cc <- cc[nzchar(cc)][1]
if (!is.na(cc)) {
  exe <- tempfile("handoff_floor")
  if (system2(cc, c("-O2", "-o", exe, "bench/handoff_floor.c", "-lpthread")) == 0) {
    f <- as.numeric(strsplit(system2(exe, stdout = TRUE), " ")[[1]])
    add("hand-off latency: the same in C, no R", NA,
        sprintf("median %.0f us, 90th percentile %.0f us", f[1], f[2]))
  }
  unlink(exe)
}

# Producer/consumer throughput: 3 producers send 3,000 messages each with
# priorities 0-3 into one queue, 2 consumers take them; from the start
# signal until the consumers have everything.
pc <- function(nprod = 3, ncons = 2, per = 3000) {
  q <- msg_queue(max_count = 100); go <- semaphore(); done <- semaphore(); res <- msg_queue()
  prod <- lapply(seq_len(nprod), function(i) callr::r_bg(function(q, go, done, i, per) {
    q <- rustipc::msg_queue(q); go <- rustipc::semaphore(go); done <- rustipc::semaphore(done)
    go$wait()
    for (j in seq_len(per)) q$send(sprintf("%d-%d-%s", i, j, strrep("x", 80)), priority = j %% 4)
    done$post()
  }, list(q$name, go$name, done$name, i, per), libpath = .libPaths()))
  cons <- lapply(seq_len(ncons), function(i) callr::r_bg(function(q, go, res) {
    q <- rustipc::msg_queue(q); go <- rustipc::semaphore(go); res <- rustipc::msg_queue(res)
    go$wait(); n <- 0
    repeat { m <- q$receive(); if (m == "STOP") break; n <- n + 1 }
    res$send(as.character(n))
  }, list(q$name, go$name, res$name), libpath = .libPaths()))
  Sys.sleep(1) # let the processes start; the clock starts at the signal
  t <- proc.time()[["elapsed"]]
  for (i in seq_len(nprod + ncons)) go$post()
  for (i in seq_len(nprod)) done$wait()
  for (i in seq_len(ncons)) q$send("STOP")
  got <- sum(vapply(seq_len(ncons), function(i) as.numeric(res$receive(timeout_ms = 60000)), 0))
  el <- proc.time()[["elapsed"]] - t
  for (p in c(prod, cons)) p$wait(10000)
  invisible(c(q$remove(), go$remove(), done$remove(), res$remove()))
  stopifnot(got == nprod * per)
  got / el
}
add("msg_queue producer/consumer (3 producers, 2 consumers)", pc(), "messages per second, each received once")

options(width = 200)
tab <- do.call(rbind, rows)
print(tab, row.names = FALSE, right = FALSE)

cat("\nContention: n processes on one object for 1.5 s each (queue: half producers, half consumers;\n",
    "p50/p99: one operation, waiting included; fewest/most: operations by one process)\n", sep = "")
source("bench/contention.R")
print(contention(), row.names = FALSE)
