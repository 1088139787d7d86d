# make bench: throughput and hand-off latency, reported as ratios to an empty
# native call and to filelock, all measured in this one run.
# Anchors built by `make bench-anchors` live in a library of their own:
# interprocess (when its source was given) is used from there; the baseline
# rustipc only by bench/compare.R's child processes.
cache <- Sys.getenv("RUSTIPC_BENCH_CACHE", file.path(Sys.getenv("HOME"), ".cache", "rustipc-bench"))
anchors <- file.path(cache, "anchors-lib")
if (dir.exists(anchors)) .libPaths(c(.libPaths(), anchors))
# The bench's objects (and uid() token files) live in a directory of their
# own on the same file system, inherited by its child processes and
# removed at the end, so it leaves nothing in the user's object directory.
own_dir <- !nzchar(Sys.getenv("RUSTIPC_DIR"))
if (own_dir) {
  Sys.setenv(RUSTIPC_DIR = file.path(if (dir.exists("/dev/shm")) "/dev/shm" else tempdir(),
                                     sprintf("rustipc-bench-%d", Sys.getpid())))
}
library(rustipc)
ns <- asNamespace("rustipc")
# Operations per second of f(n): n grows until a measurement takes at least
# 0.2 s (proc.time() ticks in milliseconds).
rate <- function(f, n) {
  f()
  repeat {
    t <- proc.time()[["elapsed"]]; f(n); el <- proc.time()[["elapsed"]] - t
    if (el >= 0.2) return(n / el)
    n <- n * if (el > 0.02) ceiling(0.25 / el) else 16
  }
}
# Exactly n operations (a partner process expects that many).
rate_n <- function(f, n) { f(); t <- proc.time()[["elapsed"]]; f(n); n / (proc.time()[["elapsed"]] - t) }
loop <- function(body) { body <- substitute(body)
  eval(bquote(function(n = 10) for (i in seq_len(n)) .(body)), parent.frame()) }
N <- 100000
rows <- list()
add <- function(what, per_sec, note = "") rows[[length(rows) + 1]] <<- data.frame(
  benchmark = what, per_second = round(per_sec), note = note)

# (The routines are fetched once: `ns$...` in the loop would time a lookup.)
NOOP <- ns$rs_noop
noop <- rate(loop(.Call(NOOP)), N)
add("empty native call", noop, "the floor")
add("uid()", rate(loop(uid()), 50000))
add("hash(\"some/path\")", rate(loop(hash("some/path")), N))

m <- mutex()
pair <- rate(loop({ m$lock(); m$unlock() }), N)
add("mutex $lock() + $unlock()", pair, sprintf("%.1fx the cost of two empty calls", noop / (2 * pair)))
# What the API itself costs: the interprocess-style object is a classed
# list of closures, and R's `$` on a classed object looks for S3 methods.
h <- environment(m$lock)$h
LOCK <- ns$rs_mutex_lock; UNLOCK <- ns$rs_mutex_unlock
native <- rate(loop({ .Call(LOCK, h, FALSE, Inf); .Call(UNLOCK, h, TRUE) }), N)
add("  of which: the two native calls", native, sprintf("%.1fx the cost of two empty calls", noop / (2 * native)))
lookups <- rate(loop({ m$lock; m$unlock }), N)
add("  of which: looking up m$lock and m$unlock", lookups, sprintf("%.1fx the cost of two empty calls", noop / (2 * lookups)))
lk <- m$lock; ul <- m$unlock
hoisted <- rate(loop({ lk(); ul() }), N)
add("  the pair with the methods hoisted (lk <- m$lock)", hoisted, sprintf("%.1fx the cost of two empty calls", noop / (2 * hoisted)))
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
rt <- rate_n(pp, 20000)
a$send("STOP"); p$wait(10000)
add("msg_queue ping-pong round trips (2 processes)", rt, sprintf("%.1f us per round trip", 1e6 / rt))
invisible(c(a$remove(), b$remove()))

# Semaphore ping-pong.
a <- semaphore(); b <- semaphore()
p <- callr::r_bg(function(a, b, n) {
  a <- rustipc::semaphore(a); b <- rustipc::semaphore(b)
  for (i in seq_len(n + 1)) { a$wait(); b$post() }
}, list(a$name, b$name, 20001), libpath = .libPaths())
sp <- rate_n(function(n = 1) for (i in seq_len(n)) { a$post(); b$wait() }, 20000)
p$wait(10000)
add("semaphore ping-pong round trips (2 processes)", sp, sprintf("%.1f us per round trip", 1e6 / sp))
invisible(c(a$remove(), b$remove()))

# Hand-off latency: a waiter in another process is blocked in lock() (or
# in a semaphore's wait()); we note the time just before releasing (or
# posting), it notes the time it got through.  rustipc's calls also note,
# natively (rs_stamps, src/rust/src/stamps.rs), when the release started and
# when the waiter's native call returned, and on which CPU: so each
# hand-off splits into the releaser's R code, release -> waiter's native
# return, and the waiter's R code.
handoff <- function(kind, k = 41) {
  path <- tempfile(); m <- mutex(); target <- semaphore()
  sems <- list(start = semaphore(), ready = semaphore(), fin = semaphore())
  take <- switch(kind, mutex = function() m$lock(), rustipc = function() rustipc::lock(path),
                 filelock = function() filelock::lock(path), semaphore = function() NULL)
  give <- switch(kind, mutex = function(l) m$unlock(), rustipc = function(l) rustipc::unlock(l),
                 filelock = function(l) filelock::unlock(l), semaphore = function(l) target$post())
  p <- callr::r_bg(function(kind, name, target, path, sems, k) {
    m <- rustipc::mutex(name); target <- rustipc::semaphore(target); s <- lapply(sems, rustipc::semaphore)
    stamps <- asNamespace("rustipc")$rs_stamps
    .Call(stamps, TRUE)
    got <- matrix(NA_real_, k, 3)
    for (i in seq_len(k)) {
      s$start$wait(); s$ready$post()
      l <- switch(kind, mutex = m$lock(), rustipc = rustipc::lock(path), filelock = filelock::lock(path),
                  semaphore = target$wait())
      t <- as.numeric(Sys.time())
      st <- .Call(stamps, TRUE)
      got[i, ] <- c(t, st[2], if (kind == "filelock") st[5] else st[4])
      switch(kind, mutex = m$unlock(), rustipc = rustipc::unlock(l), filelock = filelock::unlock(l), NULL)
      s$fin$post()
    }
    got
  }, list(kind, m$name, target$name, path, lapply(sems, `[[`, "name"), k), libpath = .libPaths())
  stamps <- ns$rs_stamps
  .Call(stamps, TRUE)
  rel <- matrix(NA_real_, k, 3)
  for (i in seq_len(k)) {
    l <- take(); sems$start$post(); sems$ready$wait()
    Sys.sleep(0.002) # let the waiter block in the kernel
    t <- as.numeric(Sys.time())
    give(l)
    st <- .Call(stamps, TRUE)
    rel[i, ] <- c(t, st[1], if (kind == "filelock") st[5] else st[3])
    sems$fin$wait()
  }
  .Call(stamps, FALSE)
  p$wait(30000)
  got <- p$get_result()
  invisible(c(m$remove(), target$remove(), vapply(sems, function(s) s$remove(), TRUE)))
  unlink(path)
  keep <- -1
  us <- function(x) x[keep] * 1e6
  d <- list(total = us(got[, 1] - rel[, 1]))
  if (kind != "filelock") {
    d$releaser_r <- us(rel[, 2] - rel[, 1])
    d$native <- us(got[, 2] - rel[, 2])
    d$waiter_r <- us(got[, 1] - got[, 2])
  }
  # (filelock: the CPUs its R code ran on just after the calls.)
  d$same_cpu <- sum(got[keep, 3] == rel[keep, 3] & got[keep, 3] >= 0)
  d
}
label <- c(mutex = "mutex", semaphore = "semaphore post -> wait",
           rustipc = "lock()", filelock = "filelock::lock()")
hand <- list()
add_row <- function(kind, d, suffix = "") {
  q <- function(x) sprintf("%.0f / %.0f", median(x), quantile(x, 0.9))
  hand[[length(hand) + 1]] <<- data.frame(
    hand_off = paste0(label[kind], suffix), total_us = q(d$total),
    releaser_R_us = if (is.null(d$native)) "" else q(d$releaser_r),
    release_to_native_return_us = if (is.null(d$native)) "" else q(d$native),
    waiter_R_us = if (is.null(d$native)) "" else q(d$waiter_r),
    woke_on_releasers_cpu = sprintf("%d of %d", d$same_cpu, length(d$total)))
  median(d$total)
}
# lock() and filelock: 3 alternating rounds each, pooled, so that both see
# the same minutes of this machine.
lock_rows <- function(suffix = "", rounds = 3) {
  ds <- list(rustipc = list(), filelock = list())
  for (r in seq_len(rounds)) for (kind in names(ds)) ds[[kind]][[r]] <- handoff(kind)
  pool <- function(l) { out <- lapply(names(l[[1]]), function(n) unlist(lapply(l, `[[`, n)))
                        names(out) <- names(l[[1]]); out$same_cpu <- sum(out$same_cpu); out }
  c(rustipc = add_row("rustipc", pool(ds$rustipc), suffix), filelock = add_row("filelock", pool(ds$filelock), suffix))
}
hand_med <- c(sapply(c("mutex", "semaphore"), function(k) add_row(k, handoff(k))), lock_rows())
# The same for lock() and filelock with a CPU hog on each core: a waiter
# that must first be scheduled (0.1.0 started a helper thread per wait,
# which under load first ran milliseconds later) shows it here.
hogs <- lapply(seq_len(parallel::detectCores()), function(i)
  callr::r_bg(function() repeat NULL, libpath = .libPaths()))
hog <- lock_rows(", CPU hogs running")
hog_ours <- hog[["rustipc"]]; hog_theirs <- hog[["filelock"]]
for (h in hogs) h$kill()

# The floor for the rows above: the same protocol in C, without R, with
# the two processes where the scheduler puts them, on one CPU, and on two.
cc <- Sys.which(c("cc", "gcc"))
cc <- cc[nzchar(cc)][1]
if (!is.na(cc)) {
  exe <- tempfile("handoff_floor")
  if (system2(cc, c("-O2", "-o", exe, "bench/handoff_floor.c", "-lpthread")) == 0) {
    for (mode in c("", "same", "other")) {
      f <- suppressWarnings(as.numeric(strsplit(system2(exe, mode, stdout = TRUE), " ")[[1]]))
      hand[[length(hand) + 1]] <- data.frame(
        hand_off = paste("the same in C, no R", switch(mode, same = "(one CPU)", other = "(two CPUs)", "(unpinned)")),
        total_us = if (is.na(f[1])) "not possible here" else sprintf("%.0f / %.0f", f[1], f[2]),
        releaser_R_us = "", release_to_native_return_us = "", waiter_R_us = "", woke_on_releasers_cpu = "")
    }
  }
  unlink(exe)
  # The file-lock hand-off in C: filelock's wait (F_SETLKW) against
  # rustipc's (F_OFD_SETLKW with a per-thread timer for the slice).
  exe <- tempfile("lock_floor")
  if (Sys.info()[["sysname"]] == "Linux" &&
      system2(cc, c("-O2", "-o", exe, "bench/lock_floor.c", "-lpthread", "-lrt")) == 0) {
    for (mode in c("classic", "ofd")) {
      f <- tempfile()
      r <- as.numeric(strsplit(system2(exe, c(mode, f), stdout = TRUE), " ")[[1]])
      unlink(f)
      hand[[length(hand) + 1]] <- data.frame(
        hand_off = switch(mode, classic = "file lock in C: fcntl(F_SETLKW), filelock's wait",
                          ofd = "file lock in C: F_OFD_SETLKW + per-thread timer, lock()'s wait"),
        total_us = sprintf("%.0f / %.0f", r[1], r[2]),
        releaser_R_us = "", release_to_native_return_us = "", waiter_R_us = "", woke_on_releasers_cpu = "")
    }
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

options(width = 250)
tab <- do.call(rbind, rows)
print(tab, row.names = FALSE, right = FALSE)

cat("\nHand-off to a blocked waiter in another process, median / 90th percentile in us (40 hand-offs each;\n",
    "lock() and filelock: 120, from 3 alternating rounds).\n",
    "rustipc's rows split the total with native timestamps: the releaser's R code before the native release,\n",
    "the native release to the waiter's native return, and the waiter's R code after it.\n", sep = "")
print(do.call(rbind, hand), row.names = FALSE, right = FALSE)
cat(sprintf("lock() / filelock hand-off medians: %.2fx, %.2fx with CPU hogs\n",
            hand_med[["rustipc"]] / hand_med[["filelock"]], hog_ours / hog_theirs))

cat("\nThe pairs against rustipc at 39ac12e (when the speed issue was filed) and interprocess,\n",
    "each in fresh child processes, medians of 5 alternating rounds (ns per pair; empty_calls: multiples of\n",
    "an empty native call in the same process):\n", sep = "")
source("bench/compare.R")
cmp <- compare_pairs(file.path(cache, "baseline-lib"))
cat("versions:", paste(names(cmp$versions), cmp$versions, collapse = ", "), "\n")
cmp_tab <- compare_table(cmp)
print(cmp_tab, row.names = FALSE)

cat("\nContention: n processes on one object for 1.5 s each (queue: half producers, half consumers;\n",
    "p50/p99: one operation, waiting included; fewest/most: operations by one process)\n", sep = "")
source("bench/contention.R")
cont <- contention()
print(cont, row.names = FALSE)

# The same tables in Markdown: bench/last-run.md, and with
# RUSTIPC_BENCH_README=1 also README.md's speed section (between its
# <!-- bench:start --> and <!-- bench:end --> markers).
md <- function(df) {
  df[] <- lapply(df, function(x) {
    y <- if (is.numeric(x)) format(x, big.mark = ",", scientific = FALSE, trim = TRUE) else as.character(x)
    y[is.na(x)] <- ""
    gsub("|", "\\|", y, fixed = TRUE)
  })
  c(paste("|", paste(names(df), collapse = " | "), "|"), paste0(strrep("|---", ncol(df)), "|"),
    apply(df, 1, function(r) paste("|", paste(r, collapse = " | "), "|")))
}
si <- utils::sessionInfo()
out <- c(sprintf("One `make bench` run, %s: %s, %s, %d CPUs, backend `%s`.", format(Sys.time(), "%Y-%m-%d %H:%M UTC", tz = "UTC"),
                 si$running, R.version.string, parallel::detectCores(), ipc_backend()),
         "", "Operations per second:", "", md(tab),
         "", "Hand-off to a blocked waiter in another process (median / 90th percentile, µs, 40 hand-offs each,",
         "`lock()` and filelock 120 from 3 alternating rounds;",
         "rustipc's rows split by native timestamps; the last column counts hand-offs where the waiter's native",
         "call returned on the CPU the release ran on; for filelock, the CPUs its R code ran on just after):", "", md(do.call(rbind, hand)),
         "", sprintf("`lock()` / filelock hand-off medians: %.2fx, and %.2fx with a CPU hog on each core.",
                     hand_med[["rustipc"]] / hand_med[["filelock"]], hog_ours / hog_theirs),
         "", sprintf("The pairs against rustipc at 39ac12e (when the speed issue was filed) and interprocess %s,",
                     if (is.na(cmp$versions["interprocess"])) "(not installed)" else cmp$versions[["interprocess"]]),
         "each candidate in fresh child processes, medians of 5 alternating rounds, CPU time (ns per pair;",
         "`empty_calls`: multiples of an empty native call in the same process):", "", md(cmp_tab),
         "", "Contention: n processes on one object for 1.5 s each (queue: half producers, half consumers;",
         "p50/p99 µs: one operation, waiting included; fewest/most: operations by one process):", "", md(cont))
writeLines(out, "bench/last-run.md")
if (identical(Sys.getenv("RUSTIPC_BENCH_README"), "1")) {
  readme <- readLines("README.md")
  a <- grep("<!-- bench:start -->", readme, fixed = TRUE); b <- grep("<!-- bench:end -->", readme, fixed = TRUE)
  if (length(a) == 1 && length(b) == 1 && a < b) {
    writeLines(c(readme[seq_len(a)], out, readme[b:length(readme)]), "README.md")
    cat("README.md: speed section rewritten from this run\n")
  }
}

# Everything the bench made was removed; only uid() token files remain.
left <- list.files(Sys.getenv("RUSTIPC_DIR"), all.files = TRUE, no.. = TRUE)
left <- left[!startsWith(left, ".uid-")]
if (length(left)) cat("bench: left behind:", left, "\n")
if (own_dir) unlink(Sys.getenv("RUSTIPC_DIR"), recursive = TRUE)
