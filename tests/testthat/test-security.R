# The defended storage layer: a per-user directory, objects checked before
# they are used, no crash or hang whatever a file says, allocation before
# publishing.  Cross-user cases run as a second, unprivileged user.

test_that("objects are owner-only, in a directory of mode 0700", {
  m <- mutex()
  on.exit(m$remove())
  if (is_windows()) {
    # No modes there; the directory used is still the one asked for.
    expect_identical(normalizePath(rustipc:::object_dir_used()), normalizePath(object_dir()))
    skip("file modes are a Unix matter")
  }
  expect_identical(format(file.info(object_dir())$mode), "700")
  expect_identical(format(file.info(object_path(m$name))$mode), "600")
  expect_identical(rustipc:::object_dir_used(), normalizePath(object_dir()))
})

test_that("another user can neither use, read nor plant in our object directory", {
  user <- other_user()
  s <- semaphore()
  on.exit(s$remove())
  code <- sprintf('
    d <- Sys.getenv("RUSTIPC_DIR")
    cat(file.exists(file.path(d, "%s")), file.create(file.path(d, "planted"), showWarnings = FALSE), "")
    r <- tryCatch(rustipc::semaphore("%s", assert = "exists"), error = function(e) class(e)[1])
    cat(if (is.character(r)) r else "opened")', s$name, s$name)
  r <- as_user(user, code, env = c(RUSTIPC_DIR = object_dir()))
  expect_identical(r$stdout, "FALSE FALSE rustipc_error_permission")
  expect_false(file.exists(object_path("planted")))
})

test_that("a directory that another user made first is refused, never used", {
  user <- other_user()
  w <- world_dir()
  on.exit(unlink(w, recursive = TRUE))
  squat <- file.path(w, "squatted")
  link <- file.path(w, "link")
  r <- as_user(user, sprintf('dir.create("%s"); Sys.chmod("%s", "0777", use_umask = FALSE);
                              file.symlink("%s", "%s")', squat, squat, object_dir(), link))
  expect_identical(r$status, 0L)
  for (d in c(squat, link)) {
    r <- as_user(NULL, 'r <- tryCatch(rustipc::mutex(), error = identity); cat(class(r)[1], conditionMessage(r))',
                 env = c(RUSTIPC_DIR = d))
    expect_match(r$stdout, "^rustipc_error_permission", label = d)
    expect_match(r$stdout, d, fixed = TRUE, label = d)
  }
  # A directory of our own with group or other permissions is refused too.
  wide <- file.path(w, "wide")
  dir.create(wide)
  Sys.chmod(wide, "0755", use_umask = FALSE)
  r <- as_user(NULL, 'cat(class(tryCatch(rustipc::mutex(), error = identity))[1])', env = c(RUSTIPC_DIR = wide))
  expect_identical(r$stdout, "rustipc_error_permission")
})

test_that("the other user's objects live in their own directory, and ours refuse them", {
  user <- other_user()
  r <- as_user(user, 'Sys.unsetenv("RUSTIPC_DIR"); m <- rustipc::mutex("theirs");
                      cat(rustipc:::object_dir_used()); m$remove()')
  expect_identical(r$status, 0L)
  their_dir <- r$stdout
  expect_match(their_dir, paste0("rustipc-", other_uid(user), "$"))
  info <- file.info(their_dir, extra_cols = TRUE)
  expect_identical(info$uname, user)
  expect_identical(format(info$mode), "700")
  # Root could read it, but rustipc running as root will not use it.
  r <- as_user(NULL, 'cat(class(tryCatch(rustipc::mutex(), error = identity))[1])', env = c(RUSTIPC_DIR = their_dir))
  expect_identical(r$stdout, "rustipc_error_permission")
  unlink(their_dir, recursive = TRUE)
})

test_that("an object file of another owner or with a wider mode is refused", {
  user <- other_user()
  s <- semaphore()
  name <- s$name
  copy <- uid()
  file.copy(object_path(name), object_path(copy))
  on.exit({ s$remove(); unlink(object_path(copy)) })
  Sys.chmod(object_path(copy), "0600")
  system2("chown", c(user, object_path(copy)))
  expect_error(semaphore(copy, assert = "exists"), "belongs to user", class = "rustipc_error_permission")
  system2("chown", c("root", object_path(copy)))
  Sys.chmod(object_path(copy), "0644")
  expect_error(semaphore(copy, assert = "exists"), class = "rustipc_error_permission")
  Sys.chmod(object_path(copy), "0600")
  expect_s3_class(semaphore(copy, assert = "exists"), "rustipc_semaphore")
})

test_that("a FIFO or a symlink under a name neither blocks nor is used", {
  skip_on_os("windows")  # no FIFOs (and symbolic links need privileges)
  fifo <- uid()
  link <- uid()
  system2("mkfifo", object_path(fifo))
  file.symlink("/etc/passwd", object_path(link))
  on.exit(unlink(object_path(c(fifo, link))))
  # In a child, so that a hang would be a timeout here, not a hung suite.
  r <- as_user(NULL, sprintf('
    o <- rustipc::ipc_objects()
    cat(nrow(o), "")
    for (n in c("%s", "%s")) cat(class(tryCatch(rustipc::mutex(n), error = identity))[1], "")',
    fifo, link), env = c(RUSTIPC_DIR = object_dir()), timeout = 20)
  expect_false(r$timeout)
  expect_match(r$stdout, "rustipc_error_wrong_kind rustipc_error_wrong_kind")
  expect_false(fifo %in% ipc_objects()$name)
})

test_that("lock() on a FIFO is an error at once, never a hang, also for another user", {
  skip_on_os("windows")  # no FIFOs
  d <- world_dir()
  on.exit(unlink(d, recursive = TRUE))
  fifo <- file.path(d, "fifo")
  system2("mkfifo", c("-m", "0644", fifo))
  code <- sprintf('cat(class(tryCatch(rustipc::lock("%s", exclusive = FALSE, timeout = 0), error = identity))[1],
                      class(tryCatch(rustipc::lock("%s"), error = identity))[1])', fifo, fifo)
  r <- as_user(NULL, code, timeout = 20)
  expect_false(r$timeout)
  expect_identical(r$stdout, "rustipc_error_invalid_argument rustipc_error_invalid_argument")
  err <- tryCatch(lock(fifo, timeout = 0), error = identity)
  expect_match(conditionMessage(err), "FIFO")
  expect_match(conditionMessage(err), fifo, fixed = TRUE)
  user <- tryCatch(other_user(), condition = function(e) NULL)
  if (!is.null(user)) {
    # A shared lock needs only read access: the FIFO is refused as such; an
    # exclusive lock needs write access, which this user lacks.
    r <- as_user(user, code, timeout = 20)
    expect_false(r$timeout)
    expect_identical(r$stdout, "rustipc_error_invalid_argument rustipc_error_permission")
  }
})

# Bytes of an object header: magic, version, kind, 4 parameters, then zeros.
header_bytes <- function(kind, params = c(0, 0, 0, 0), version = 3L, magic = "RUSTIPC") {
  con <- rawConnection(raw(), "wb")
  on.exit(close(con))
  writeBin(c(charToRaw(magic), as.raw(0)), con)
  writeBin(as.integer(c(version, kind)), con, size = 4)
  writeBin(as.integer(params), con, size = 4)
  writeBin(raw(32), con)
  rawConnectionValue(con)
}

test_that("crafted headers are refused before anything is mapped", {
  # kind 3 (msg_queue) with sizes that overflow, or that do not match the
  # file; wrong versions, magic and kinds; a short file.
  cases <- list(
    overflow = c(header_bytes(3L, c(-1L, -1L, 0L, 0L)), raw(64)),
    bigcount = c(header_bytes(3L, c(2147483647L, 1L, 0L, 0L)), raw(4096)),
    zerosizes = c(header_bytes(3L, c(0L, 0L, 0L, 0L)), raw(4096)),
    shortbody = c(header_bytes(3L, c(100L, 100L, 0L, 0L)), raw(128)),
    longbody = c(header_bytes(2L), raw(100000)),
    version = c(header_bytes(2L, version = 2L), raw(64)),
    future = c(header_bytes(2L, version = 99L), raw(64)),
    magic = c(header_bytes(2L, magic = "NOTOURS"), raw(64)),
    kind = c(header_bytes(77L), raw(64)),
    short = as.raw(1:10),
    empty = raw(0)
  )
  names_made <- character()
  on.exit(unlink(object_path(names_made)))
  for (case in names(cases)) {
    name <- paste0("crafted", case)
    writeBin(cases[[case]], object_path(name))
    Sys.chmod(object_path(name), "0600")
    names_made <- c(names_made, name)
  }
  code <- sprintf('
    for (n in c(%s)) {
      for (f in list(rustipc::mutex, rustipc::semaphore, rustipc::msg_queue)) {
        r <- tryCatch(f(n, assert = "exists"), error = identity)
        cat(n, class(r)[1], "\n")
      }
    }
    o <- rustipc::ipc_objects()
    cat("listed", sum(startsWith(o$name, "crafted")), "\n")',
    paste0('"', names_made, '"', collapse = ", "))
  r <- as_user(NULL, code, env = c(RUSTIPC_DIR = object_dir()))
  expect_identical(r$status, 0L, label = r$stderr)
  lines <- trimws(strsplit(r$stdout, "\n")[[1]])
  results <- sub("^\\S+ ", "", lines[!startsWith(lines, "listed")])
  expect_length(results, 3 * length(cases))
  expect_true(all(results == "rustipc_error_wrong_kind"), label = paste(lines, collapse = "; "))
  # ipc_objects() lists only files with a header of this version and a
  # known kind (the five whose sizes are wrong), and does not fail on any.
  expect_identical(lines[length(lines)], "listed 5")
})

test_that("damaged bodies make errors or odd values, never a crash or a hang", {
  m <- mutex(); s <- semaphore(); q <- msg_queue(max_count = 8, max_nchar = 16)
  on.exit({ m$remove(); s$remove(); q$remove() })
  set.seed(42)
  for (round in 1:8) {
    for (o in list(m, s, q)) {
      size <- file.size(object_path(o$name))
      body <- if (round %% 2) as.raw(sample(0:255, size - 64, TRUE)) else as.raw(rep(255L, size - 64))
      con <- file(object_path(o$name), "r+b")
      seek(con, 64, rw = "write")
      writeBin(body, con)
      close(con)
    }
    code <- sprintf('
      m <- rustipc::mutex("%s", assert = "exists")
      s <- rustipc::semaphore("%s", assert = "exists")
      q <- rustipc::msg_queue("%s", assert = "exists")
      try1 <- function(expr) tryCatch(expr, error = function(e) class(e)[1])
      try1(m$lock(timeout_ms = 100)); try1(m$unlock(warn = FALSE))
      try1(m$lock(shared = TRUE, timeout_ms = 100)); try1(m$unlock(warn = FALSE))
      try1(s$post()); try1(s$wait(timeout_ms = 100)); try1(s$wait(timeout_ms = 0))
      try1(q$send("hello", timeout_ms = 100)); try1(q$receive(timeout_ms = 100))
      try1(q$receive(timeout_ms = 0)); try1(q$count())
      try1(rustipc::ipc_objects())
      cat("survived")', m$name, s$name, q$name)
    r <- as_user(NULL, code, env = c(RUSTIPC_DIR = object_dir()), timeout = 30)
    expect_false(r$timeout, label = paste("round", round))
    expect_identical(r$stdout, "survived", label = paste("round", round, r$stderr))
  }
})

test_that("a full file system is a no_space error, with nothing half-made left behind", {
  skip_if_not(can_unshare(c("-m", "--propagation", "private")), "cannot make a private mount namespace here")
  d <- tempfile("rustipc-small-", tmpdir = "/dev/shm")
  dir.create(d, mode = "0700")
  on.exit(unlink(d, recursive = TRUE))
  # A 1 MiB tmpfs over `d`, in a mount namespace of this child only.
  code <- '
    q <- rustipc::msg_queue("first", max_count = 100, max_nchar = 100)
    r <- tryCatch(rustipc::msg_queue("huge", max_count = 10000, max_nchar = 100), error = identity)
    cat(class(r)[1], "\n")
    cat(conditionMessage(r), "\n")
    made <- 0
    repeat {
      r <- tryCatch(rustipc::semaphore(paste0("s", made)), error = identity)
      if (inherits(r, "error")) break
      made <- made + 1
    }
    cat(class(r)[1], made > 0, "\n")
    # Everything made still works, and the names that failed do not exist.
    q$send("still works")
    cat(q$receive(timeout_ms = 0), "\n")
    o <- rustipc::ipc_objects()
    cat(sum(o$kind == "partial"), "huge" %in% o$name, "\n")
    for (i in seq_len(made) - 1) rustipc::semaphore(paste0("s", i))$remove()
    q$remove()'
  script <- tempfile(fileext = ".R")
  writeLines(code, script)
  on.exit(unlink(script), add = TRUE)
  sh <- sprintf('mount -t tmpfs -o size=1m,mode=0700 tmpfs %s && exec env RUSTIPC_DIR=%s/objs R_LIBS=%s %s --vanilla %s',
                d, d, paste(.libPaths(), collapse = ":"), file.path(R.home("bin"), "Rscript"), script)
  r <- processx::run("unshare", c("-m", "--propagation", "private", "sh", "-c", sh),
                     error_on_status = FALSE, timeout = 60)
  expect_identical(r$status, 0L, label = r$stderr)
  lines <- trimws(strsplit(r$stdout, "\n")[[1]])
  expect_identical(lines[1], "rustipc_error_no_space")
  expect_match(lines[2], "needs [0-9]+ bytes")
  expect_match(lines[2], "[0-9]+ bytes are free")
  expect_identical(lines[3], "rustipc_error_no_space TRUE")
  expect_identical(lines[4], "still works")
  expect_identical(lines[5], "0 FALSE")
})

test_that("ipc_objects() after a holder's SIGKILL changes nothing, and the next locker takes over", {
  m <- mutex()
  on.exit(m$remove())
  p <- bg_holding("mutex", m$name)
  expect_identical(ipc_objects()[ipc_objects()$name == m$name, "state"], "locked")
  p$kill()
  state <- function() ipc_objects()[ipc_objects()$name == m$name, "state"]
  wait_until(function() identical(state(), "holder died"), 10, "the holder's death to show")
  # Looking again and again must not make it unrecoverable.
  for (i in 1:5) expect_identical(state(), "holder died")
  got <- in_child(function(name) {
    m <- rustipc::mutex(name, assert = "exists")
    r <- m$lock(timeout_ms = 5000)
    m$unlock()
    r
  }, list(name = m$name))
  expect_true(got)
  expect_true(m$lock(timeout_ms = 5000))
  expect_identical(state(), "locked")
  m$unlock()
  expect_identical(state(), "unlocked")
})

test_that("a cancel signal reset by another library neither kills nor hangs R", {
  skip_on_cran()
  skip_on_os("windows")  # real-time signals are a Unix matter
  cc <- file.path(R.home("bin"), "R")
  src <- tempfile(fileext = ".c")
  writeLines(c(
    "#include <signal.h>",
    "void reset_default(void) { signal(SIGRTMAX - 3, SIG_DFL); }",
    "void reset_ignore(void) { signal(SIGRTMAX - 3, SIG_IGN); }"
  ), src)
  so <- sub("\\.c$", .Platform$dynlib.ext, src)
  built <- processx::run(cc, c("CMD", "SHLIB", "-o", so, src), error_on_status = FALSE, wd = dirname(src))
  skip_if(built$status != 0, "cannot compile a shared library here")
  on.exit(unlink(c(src, so, sub("\\.c$", ".o", src))))
  path <- tempfile(fileext = ".lock")
  on.exit(unlink(path), add = TRUE)
  holder <- bg_holding("file", path)
  on.exit(holder$kill(), add = TRUE)
  code <- sprintf('
    dyn.load("%s")
    .C("reset_default")
    a <- rustipc::lock("%s", timeout = 150)
    .C("reset_ignore")
    t0 <- Sys.time()
    b <- rustipc::lock("%s", timeout = 150)
    cat(is.null(a), is.null(b), as.numeric(Sys.time() - t0, units = "secs") < 5)', so, path, path)
  r <- as_user(NULL, code, timeout = 30)
  expect_false(r$timeout)
  expect_identical(r$stdout, "TRUE TRUE TRUE", label = r$stderr)
})

test_that("uids stay unique across PID and network namespaces sharing the directory", {
  skip_if_not(can_unshare(c("-n", "-p", "-f")), "cannot make PID and network namespaces here")
  code <- 'x <- replicate(3000, rustipc::uid()); cat(x, sep = "\n")'
  run_one <- function() {
    processx::process$new("unshare", c("-n", "-p", "-f", "env", paste0("RUSTIPC_DIR=", object_dir()),
                                       paste0("R_LIBS=", paste(.libPaths(), collapse = ":")),
                                       file.path(R.home("bin"), "Rscript"), "--vanilla", "-e", code),
                          stdout = "|", stderr = "|")
  }
  ps <- list(run_one(), run_one())
  mine <- replicate(3000, uid())
  # Read before waiting: a child blocks once its output pipe is full.
  outs <- lapply(ps, function(p) strsplit(p$read_all_output(), "\n")[[1]])
  all <- c(mine, unlist(outs))
  expect_length(all, 9000)
  expect_identical(anyDuplicated(all), 0L)
})
