# Open objects cost no file descriptor; running out of descriptors is a
# classed error, after which everything is removed cleanly.  Unix only
# (ulimit).

# Run the R code `lines` in an Rscript whose descriptor limit is 256;
# what it printed.
with_fd_limit <- function(lines) {
  script <- tempfile(fileext = ".R")
  on.exit(unlink(script))
  writeLines(lines, script)
  system2("bash", c("-c", shQuote(sprintf("ulimit -n 256 && '%s' --vanilla %s",
                                          file.path(R.home("bin"), "Rscript"), script))),
          stdout = TRUE, stderr = TRUE, env = sprintf("R_LIBS=%s", paste(.libPaths(), collapse = ":")))
}

test_that("10,000 objects stay open under a limit of 256 descriptors, and all are removed", {
  skip_on_os("windows")
  skip_on_cran()
  out <- with_fd_limit(c(
    "library(rustipc)",
    "ms <- lapply(seq_len(10000), function(i) mutex())",
    "ok <- all(vapply(ms, function(m) m$lock(timeout_ms = 0) && m$unlock(), TRUE))",
    "q <- msg_queue(); s <- semaphore(value = 1)",
    "ok <- ok && q$send('x') && q$receive() == 'x' && s$wait(timeout_ms = 0)",
    "removed <- sum(vapply(ms, function(m) m$remove(), TRUE)) + q$remove() + s$remove()",
    "cat(sprintf('fds %s ok %s removed %d\\n', length(list.files('/proc/self/fd')), ok, removed))"
  ))
  expect_match(paste(out, collapse = "\n"), "ok TRUE removed 10002", fixed = TRUE)
  expect_identical(shm_files(), character())
})

test_that("at the descriptor limit, lock() fails with a classed resource error; then all is released", {
  skip_on_os("windows")
  skip_on_cran()
  dir <- tempfile()
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE))
  out <- with_fd_limit(c(
    "library(rustipc)",
    sprintf("dir <- '%s'", dir),
    "locks <- list(); err <- NULL",
    "for (i in 1:400) { l <- tryCatch(lock(file.path(dir, i)), error = function(e) e)",
    "  if (inherits(l, 'error')) { err <- l; break }; locks[[i]] <- l }",
    "m <- tryCatch(mutex(), error = function(e) e)",
    "for (l in locks) unlock(l)",
    "m2 <- mutex(); ok <- m2$lock(timeout_ms = 0) && m2$unlock() && m2$remove()",
    "if (!inherits(m, 'error')) m$remove()",
    "cat(sprintf('class %s | %s | mutex %s | after %s\\n', class(err)[1], conditionMessage(err),",
    "  if (inherits(m, 'error')) class(m)[1] else 'ok', ok))"
  ))
  out <- paste(out, collapse = "\n")
  expect_match(out, "class rustipc_error_resource", fixed = TRUE)
  expect_match(out, "limit of open files (256)", fixed = TRUE)
  expect_match(out, "after TRUE", fixed = TRUE)
  expect_match(out, "mutex (rustipc_error_resource|ok)")
  expect_identical(shm_files(), character())
})
