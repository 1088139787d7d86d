# make soak: a chaos soak of every primitive at once.
#
# A supervisor starts worker processes that, at random, lock and unlock a
# mutex (shared and exclusive), wait on and post a semaphore, send and
# receive on a queue (random priorities and sizes) and take a file lock, all
# with random timeouts.  The supervisor kills random workers with SIGKILL,
# interrupts them with single SIGINTs and with SIGINT storms (hundreds of
# SIGINTs 0.2-2 ms apart), starts new ones, checks after every strike that
# each primitive is still usable, and in the end checks the invariants and
# prints a summary.  Workers use the documented interrupt-safe patterns
# (with(), and suspendInterrupts() around a call and its bookkeeping), so a
# SIGINT may end a wait but must never leave a lock held or lose or
# duplicate a message: only SIGKILL may lose the one message in flight.
# SOAK_SECONDS (default 300) sets the length; exit status 1 on any violation.
suppressPackageStartupMessages(library(rustipc))
secs <- as.numeric(Sys.getenv("SOAK_SECONDS", "300"))
nworkers <- as.integer(Sys.getenv("SOAK_WORKERS", "4"))
set.seed(as.integer(Sys.time()))
# The soak's objects live in a directory of their own (inherited by its
# workers), so "left behind" counts only what this soak made.
if (!nzchar(Sys.getenv("RUSTIPC_DIR"))) {
  Sys.setenv(RUSTIPC_DIR = file.path(if (dir.exists("/dev/shm")) "/dev/shm" else tempdir(),
                                     sprintf("rustipc-soak-%d", Sys.getpid())))
}
object_files <- function() {
  f <- list.files(Sys.getenv("RUSTIPC_DIR"), all.files = TRUE, no.. = TRUE)
  f[!startsWith(f, ".uid-")]
}
shm_before <- object_files()
dir <- if (nzchar(Sys.getenv("SOAK_KEEP"))) file.path(Sys.getenv("SOAK_KEEP"), "soak-run") else tempfile("rustipc-soak-")
dir.create(dir)
fd_count <- function() length(list.files("/proc/self/fd"))
r_heap_mb <- function() { g <- gc(); sum(g[, 2]) }  # MB R uses after a collection
rss_kb <- function() as.numeric(sub("\\D+(\\d+).*", "\\1", grep("^VmRSS", readLines("/proc/self/status"), value = TRUE)))

m <- mutex(); s <- semaphore(value = 2); q <- msg_queue(max_count = 50, max_nchar = 200)
flock <- file.path(dir, "file.lock")
names <- list(m = m$name, s = s$name, q = q$name, flock = flock, dir = dir)

worker <- function(names, id) {
  suppressPackageStartupMessages(library(rustipc))
  m <- mutex(names$m, assert = "exists"); s <- semaphore(names$s, assert = "exists")
  q <- msg_queue(names$q, assert = "exists")
  log <- file(file.path(names$dir, sprintf("w%s.log", id)), open = "a")
  # One string per line, written with interrupts held off: a SIGINT in the
  # middle of cat() would otherwise glue two log lines together.
  say <- function(...) suspendInterrupts({ cat(paste0(..., "\n"), file = log); flush(log) })
  stop_file <- file.path(names$dir, "STOP")
  tokens <- file.path(names$dir, "tokens")
  dir.create(tokens, showWarnings = FALSE)
  me <- Sys.getpid(); seq <- 0; ops <- 0
  # Interrupts are acted on only inside the tryCatch() below (and inside
  # rustipc's waits, which end on one having taken nothing).
  # The outer tryCatch() catches an interrupt that R acts on while it
  # unwinds from another (R may, in on.exit code): the loop goes on.
  suspendInterrupts({
  # The supervisor interrupts only workers that got here (callr's own
  # start-up code cannot be protected from a SIGINT).
  file.create(file.path(names$dir, sprintf("ready-%d", me)))
  while (!file.exists(stop_file)) tryCatch(while (!file.exists(stop_file)) {
    # A lock still held here was leaked by an interrupt: a violation.
    if (m$unlock(warn = FALSE)) say("V leaked a mutex lock")
    tryCatch(allowInterrupts({
      op <- sample(c("mx", "ms", "sem", "send", "recv", "flock"), 1)
      t <- sample(c(0, 1, 5, 20, 100), 1)
      if (op == "mx" || op == "ms") {
        shared <- op == "ms"
        with(m, shared = shared, timeout_ms = t, suspendInterrupts({
          # Overlap check: a conflicting token that appears while we are
          # inside means another process entered while we held the lock.
          # (Tokens already there when we entered may belong to a holder
          # that was killed: its lock is released before it is reaped.)
          tok <- file.path(tokens, sprintf("%s-%d", if (shared) "S" else "X", me))
          file.create(tok)
          before <- list.files(tokens)
          for (k in 1:50) NULL
          new <- setdiff(list.files(tokens), before)
          if (shared) new <- grep("^X-", new, value = TRUE)
          if (length(new)) say("V ", op, " overlaps ", paste(new, collapse = ","))
          unlink(tok)
        }))
      } else if (op == "sem") {
        with(s, suspendInterrupts(s$post()), timeout_ms = t)
      } else if (op == "send") {
        suspendInterrupts({
          seq <- seq + 1
          msg <- sprintf("%d-%d-%s", me, seq, strrep("x", sample(0:150, 1)))
          say("T ", me, "-", seq)  # about to send
          if (q$send(msg, timeout_ms = t, priority = sample(0:3, 1))) say("S ", me, "-", seq)
        })
      } else if (op == "recv") {
        suspendInterrupts({
          got <- q$receive(timeout_ms = t)
          if (!is.null(got)) say("R ", sub("^(\\d+-\\d+)-.*$", "\\1", got))
        })
      } else {
        suspendInterrupts({
          l <- lock(names$flock, exclusive = sample(c(TRUE, FALSE), 1), timeout = t)
          if (!is.null(l)) unlock(l)
        })
      }
      ops <- ops + 1
      if (ops %% 200 == 0) say("O ", ops)
    }), interrupt = function(e) say("I"), error = function(e) say("E ", conditionMessage(e)))
  }, interrupt = function(e) say("I"))
  })
  say("O ", ops)
  close(log)
  invisible()
}

start_worker <- function(id) callr::r_bg(worker, list(names, id), libpath = .libPaths(),
                                          stdout = file.path(dir, sprintf("w%s.out", id)), stderr = "2>&1")
ws <- lapply(seq_len(nworkers), function(i) start_worker(i))
next_id <- nworkers + 1
# Descriptors and memory are compared with a baseline taken after a few
# kill cycles, once callr and processx have loaded what they lazily load.
baseline <- function() list(heap = r_heap_mb(), fd = fd_count(), rss = rss_kb())
base <- baseline()
kills <- c(SIGKILL = 0, SIGINT = 0); storms <- 0; storm_sigints <- 0; unusable <- 0; checks <- 0
t_end <- Sys.time() + secs
died <- 0; hostile <- 0; hostile_failed <- 0
while (Sys.time() < t_end) {
  if (checks == 5) base <- baseline()
  Sys.sleep(runif(1, 0.2, 1))     # chaos, not synchronisation: when to strike
  i <- sample(seq_along(ws), 1)
  r <- runif(1)
  if (r < 0.5) {
    tools::pskill(ws[[i]]$get_pid(), tools::SIGKILL); kills["SIGKILL"] <- kills["SIGKILL"] + 1
    ws[[i]]$wait(5000)
    ws[[i]] <- start_worker(next_id); next_id <- next_id + 1
  } else if (!file.exists(file.path(dir, sprintf("ready-%d", ws[[i]]$get_pid())))) {
    next  # still starting: SIGINT only workers inside their loop
  } else if (r < 0.8) {
    ws[[i]]$interrupt(); kills["SIGINT"] <- kills["SIGINT"] + 1
  } else {
    # A storm: 100-400 SIGINTs, 0.2-2 ms apart.
    n <- sample(100:400, 1)
    for (k in seq_len(n)) {
      tools::pskill(ws[[i]]$get_pid(), tools::SIGINT)
      Sys.sleep(runif(1, 0.0002, 0.002))
    }
    storms <- storms + 1; storm_sigints <- storm_sigints + n
  }
  # A worker that died of anything but our SIGKILL is a violation.
  for (j in seq_along(ws)) if (!ws[[j]]$is_alive()) {
    died <- died + 1
    out <- list.files(dir, pattern = "\\.out$", full.names = TRUE)
    cat("a worker died; the end of its output:\n")
    for (f in out) {
      l <- tryCatch(readLines(f, warn = FALSE), error = function(e) character())
      if (any(grepl("halted|Error|Segmentation|abort|panick", l))) cat(tail(l, 5), sep = "\n")
    }
    ws[[j]] <- start_worker(next_id); next_id <- next_id + 1
  }
  # Every primitive is still usable after the kill.
  checks <- checks + 1
  l <- lock(flock, timeout = 10000)
  ok <- c(mutex = m$lock(timeout_ms = 10000) && m$unlock(),
          semaphore = s$post() && s$wait(timeout_ms = 10000),  # counts held by killed workers are gone
          msg_queue = q$send("sup-check", timeout_ms = 10000),
          lock = !is.null(l))
  if (!is.null(l)) unlock(l)
  if (!all(ok)) {
    unusable <- unusable + 1
    cat("unusable after a kill:", names(ok)[!ok], "\n")
  }
  # Now and then, hostile files in the object directory: a FIFO and random
  # bytes under object names.  Listing must skip them without blocking, and
  # opening them must be an error, never a hang or a crash.
  if (runif(1) < 0.2 && nzchar(Sys.which("mkfifo"))) {
    hostile <- hostile + 1
    d <- Sys.getenv("RUSTIPC_DIR")
    fifo <- sprintf("hostilefifo%d", hostile); junk <- sprintf("hostilejunk%d", hostile)
    system2("mkfifo", file.path(d, fifo))
    writeBin(as.raw(sample(0:255, 4096, TRUE)), file.path(d, junk))
    t0 <- Sys.time()
    o <- tryCatch(ipc_objects(), error = function(e) NULL)
    slow <- as.numeric(Sys.time() - t0, units = "secs") > 5
    opened <- vapply(c(fifo, junk), function(n) !inherits(tryCatch(mutex(n, assert = "exists"),
                                                                     error = identity), "error"), TRUE)
    if (is.null(o) || slow || any(c(fifo, junk) %in% o$name) || any(opened)) hostile_failed <- hostile_failed + 1
    unlink(file.path(d, c(fifo, junk)))
  }
}
invisible(file.create(file.path(dir, "STOP")))
for (w in ws) { w$wait(30000); if (w$is_alive()) w$kill() }
drained <- character()
while (!is.null(x <- q$receive(timeout_ms = 0))) drained <- c(drained, x)
drained <- sub("^(\\d+-\\d+)-.*$", "\\1", drained[drained != "sup-check"])
ws <- NULL
end <- baseline()

# A worker killed while writing leaves a partial last line: drop it.
read_log <- function(f) {
  l <- readLines(f, warn = FALSE)
  raw <- readBin(f, "raw", file.size(f))
  if (length(raw) && raw[length(raw)] != as.raw(10)) l <- l[-length(l)]
  l
}
logs <- lapply(list.files(dir, pattern = "\\.log$", full.names = TRUE), read_log)
lines <- unlist(logs)
# "O n" lines are each worker's running total: take the last of each.
ops <- sum(vapply(logs, function(l) {
  o <- grep("^O ", l, value = TRUE)
  if (length(o)) as.numeric(sub("^O ", "", o[length(o)])) else 0
}, 0))
field <- function(tag) sub("^. ", "", grep(paste0("^", tag, " "), lines, value = TRUE))
total_kills <- sum(kills)
tried <- field("T"); sent <- field("S"); recv <- c(field("R"), drained)
recv <- recv[recv != "sup-check"]
violations <- length(grep("^V ", lines))
dup <- sum(duplicated(recv))
lost <- setdiff(sent, recv)                    # sent (confirmed) but never received
unconfirmed <- setdiff(recv, sent)             # received, send not confirmed: sender killed
in_flight_ok <- all(unconfirmed %in% tried)
errors <- field("E")
# A receiver killed with SIGKILL between receive() and its log line loses
# that one message from the log; interrupts lose nothing.
lost_by_kill <- length(lost) <= kills["SIGKILL"]

for (o in list(m, s, q)) o$remove()
if (nzchar(Sys.getenv("SOAK_KEEP"))) cat("logs kept in", dir, "\n") else unlink(dir, recursive = TRUE)
left <- setdiff(object_files(), shm_before)
if (!length(left) && grepl("rustipc-soak-", Sys.getenv("RUSTIPC_DIR"), fixed = TRUE)) {
  unlink(Sys.getenv("RUSTIPC_DIR"), recursive = TRUE)
}

cat(sprintf("soak: %d s, %d workers\n", secs, nworkers))
cat(sprintf("  operations                %d\n", as.integer(ops)))
cat(sprintf("  processes killed          %d SIGKILL, %d SIGINT\n", kills["SIGKILL"], kills["SIGINT"]))
cat(sprintf("  SIGINT storms             %d (%d SIGINTs)\n", storms, storm_sigints))
cat(sprintf("  interrupts that ended an operation %d\n", length(grep("^I$", lines))))
cat(sprintf("  messages sent / received  %d / %d (drained at the end: %d)\n", length(sent), length(recv), length(drained)))
cat(sprintf("  at a kill: received, send unconfirmed %d; confirmed, never received %d\n", length(unconfirmed), length(lost)))
cat(sprintf("  errors in workers         %d%s\n", length(errors),
            if (length(errors)) paste0(" (", paste(unique(head(errors, 3)), collapse = "; "), ")") else ""))
cat(sprintf("  usability checks          %d, failed %d\n", checks, unusable))
cat(sprintf("  hostile-file checks       %d, failed %d\n", hostile, hostile_failed))
cat(sprintf("  supervisor, after warm-up: fds %d -> %d; R heap %.1f MB -> %.1f MB (RSS %d kB -> %d kB)\n",
            base$fd, end$fd, base$heap, end$heap, as.integer(base$rss), as.integer(end$rss)))
cat(sprintf("  objects or temp left      %d\n", length(left) + dir.exists(dir)))
bad <- c(
  "critical-section overlaps" = violations,
  "messages received twice" = dup,
  "messages lost beyond one per SIGKILLed process" = if (lost_by_kill) 0 else length(lost),
  "workers that died of an interrupt" = died,
  "unconfirmed messages never attempted" = if (in_flight_ok) 0 else 1,
  "primitives unusable after a kill" = unusable,
  "hostile files listed, opened or blocking" = hostile_failed,
  "descriptor growth" = max(0, end$fd - base$fd),
  "R heap growth over 2 MB" = as.integer(end$heap - base$heap > 2),
  "objects left behind" = length(left) + dir.exists(dir)
)
cat("invariant violations:", sum(bad), "\n")
if (sum(bad)) {
  print(bad[bad > 0])
  cat(head(grep("^V ", lines, value = TRUE), 5), sep = "\n")
  quit(status = 1)
}
