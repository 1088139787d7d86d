# The pairs of `make bench` against rustipc as it was when the speed issue
# was filed (0.1.0 plus the fixes of that day, commit 39ac12e, installed by
# `make bench-anchors` into its own library) and against interprocess (when
# installed: see README, "Speed").  Each candidate runs in a fresh child
# process, in alternating rounds, so all share this run's conditions;
# rustipc's figures are also given as multiples of an empty native call
# measured in the same child.  Sourced by bench/run.R; returns a data frame
# of medians over the rounds (ns per pair).
pair_costs <- function(pkg, n) {
  ns <- asNamespace(pkg)
  m <- ns$mutex(); s <- ns$semaphore(); q <- ns$msg_queue(); msg <- strrep("x", 100)
  on.exit(invisible(c(m$remove(), s$remove(), q$remove())))
  # CPU time of this process (user + system): this machine is shared, and
  # other processes taking the CPU do not count against the candidate.
  cpu <- function() sum(proc.time()[c("user.self", "sys.self")])
  # (proc.time()'s CPU times tick in milliseconds: each figure takes at
  # least 150 ms of CPU time.)
  time <- function(f, n) { f(10); t <- cpu(); f(n); (cpu() - t) / n * 1e9 }
  noop <- if (pkg == "rustipc") {
    fn <- if (!is.null(ns$rs_noop)) ns$rs_noop else ns$wrap__rs_noop  # the anchor at 39ac12e: extendr names
    time(function(k) for (i in seq_len(k)) .Call(fn), 20 * n)
  } else NA
  c(noop = noop,
    mutex = time(function(k) for (i in seq_len(k)) { m$lock(); m$unlock() }, n),
    semaphore = time(function(k) for (i in seq_len(k)) { s$post(); s$wait() }, n),
    queue = time(function(k) for (i in seq_len(k)) { q$send(msg); q$receive() }, n))
}

compare_pairs <- function(baseline_lib, rounds = 5) {
  cands <- list(now = list(pkg = "rustipc", lib = .libPaths(), n = 100000))
  if (nzchar(baseline_lib) && file.exists(file.path(baseline_lib, "rustipc"))) {
    cands$then <- list(pkg = "rustipc", lib = c(baseline_lib, .libPaths()), n = 100000)
  }
  if (requireNamespace("interprocess", quietly = TRUE)) {
    cands$interprocess <- list(pkg = "interprocess", lib = .libPaths(), n = 10000)
  }
  runs <- lapply(seq_len(rounds), function(r) lapply(cands, function(c)
    callr::r(pair_costs, list(c$pkg, c$n), libpath = c$lib)))
  med <- sapply(names(cands), function(k) apply(sapply(runs, `[[`, k), 1, median))
  list(ns = med, candidates = names(cands),
       versions = vapply(cands, function(c) callr::r(function(p) format(utils::packageVersion(p)),
                                                      list(c$pkg), libpath = c$lib), ""))
}

# The table: ns per pair, multiples of the empty call, and the goals' ratios.
compare_table <- function(cmp) {
  med <- cmp$ns
  rows <- lapply(c("mutex", "semaphore", "queue"), function(k) {
    now <- med[k, "now"]
    x <- now / med["noop", "now"]
    then <- if ("then" %in% colnames(med)) med[k, "then"] / med["noop", "then"] else NA
    ip <- if ("interprocess" %in% colnames(med)) med[k, "interprocess"] else NA
    data.frame(pair = k, ns_now = round(now), empty_calls_now = round(x, 1),
               empty_calls_39ac12e = round(then, 1), faster_than_39ac12e = round(then / x, 2),
               ns_interprocess = round(ip), faster_than_interprocess = round(ip / now, 1))
  })
  do.call(rbind, rows)
}
