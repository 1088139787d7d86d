# A second, unprivileged user for the security tests, and ways to run R as
# that user or in namespaces of our own.  Everything here skips (with the
# reason) where the machine does not allow it: not root, no useradd, no
# unshare, or a library the other user cannot read.

other_user_name <- "rustipcother"

# Create the second user once per run (removed again by the test file that
# asked for it); returns the name, or skips.
other_user <- function() {
  if (.Platform$OS.type != "unix" || Sys.info()[["sysname"]] != "Linux") {
    skip("a second user is only created on Linux")
  }
  if (!identical(Sys.info()[["effective_user"]], "root")) {
    skip("creating a second user needs root")
  }
  if (system2("id", other_user_name, stdout = FALSE, stderr = FALSE) != 0) {
    useradd <- Sys.which("useradd")
    if (!nzchar(useradd)) skip("no useradd on this machine")
    rc <- system2(useradd, c("--system", "--no-create-home", "--shell", "/bin/sh", other_user_name),
                  stdout = FALSE, stderr = FALSE)
    if (rc != 0) skip("useradd could not create a second user")
    withr::defer(system2("userdel", other_user_name, stdout = FALSE, stderr = FALSE),
                 envir = testthat::teardown_env())
  }
  probe <- as_user(other_user_name, "library(rustipc); cat('ok')")
  if (!identical(probe$stdout, "ok")) {
    skip(paste("the second user cannot load rustipc from", paste(.libPaths(), collapse = ":")))
  }
  other_user_name
}

other_uid <- function(user) as.integer(system2("id", c("-u", user), stdout = TRUE))

# Run R code as `user` (or as ourselves, user = NULL) in a fresh process,
# with a time limit; `env` is a named character vector of extra variables.
# Returns list(status, stdout, stderr, timeout).  As ourselves, without
# `wrap`, this needs neither runuser nor env(1), so it works on Windows.
as_user <- function(user, code, env = character(), timeout = 30, wrap = character()) {
  vars <- c(R_LIBS = paste(.libPaths(), collapse = .Platform$path.sep), HOME = tempdir(), env)
  rscript <- file.path(R.home("bin"), if (is_windows()) "Rscript.exe" else "Rscript")
  r_args <- c("--vanilla", "-e", sprintf("invisible(local({%s\n}))", code))
  r <- if (is.null(user) && !length(wrap)) {
    processx::run(rscript, r_args, env = c("current", vars), error_on_status = FALSE, timeout = timeout)
  } else {
    args <- c(wrap, "env", paste0(names(vars), "=", vars), rscript, r_args)
    cmd <- if (is.null(user)) args[1] else "runuser"
    if (!is.null(user)) args <- c("-u", user, "--", args) else args <- args[-1]
    processx::run(cmd, args, error_on_status = FALSE, timeout = timeout)
  }
  list(status = r$status, stdout = r$stdout, stderr = r$stderr, timeout = isTRUE(r$timeout))
}

# A directory for the other user's experiments, readable by everyone (Unix
# only: its callers skip on Windows).
world_dir <- function() {
  d <- tempfile("rustipc-world-", tmpdir = if (dir.exists("/dev/shm")) "/dev/shm" else tempdir())
  dir.create(d)
  Sys.chmod(d, "0777", use_umask = FALSE)
  d
}

# Whether `unshare` can make the namespaces in `flags` here.
can_unshare <- function(flags) {
  if (!nzchar(Sys.which("unshare"))) return(FALSE)
  system2("unshare", c(flags, "true"), stdout = FALSE, stderr = FALSE) == 0
}
