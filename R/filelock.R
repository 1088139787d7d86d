#' Lock a file
#'
#' A drop-in for the filelock package: `lock()` and `unlock()` keep
#' filelock's arguments, defaults and return values, so code ports by
#' changing the package name.  Lock a separate lock file (such as
#' `"data.csv.lock"`), which `lock()` creates if needed and never deletes.
#'
#' Unlike filelock's locks:
#' * failed, timed-out and interrupted attempts leave no file descriptor
#'   open, and descriptors are close-on-exec (on Windows, handles are not
#'   inherited by child processes);
#' * reading or writing the lock file in the holding process does not
#'   release the lock, and a symlink or another path to the same file is the
#'   same lock (files are identified by device and inode);
#' * a child made by fork (`parallel::mcparallel()`, not on Windows) is not
#'   handed its parent's lock;
#' * a waiter gets the lock as soon as it is released, without polling, and
#'   no SIGALRM or interval timer is used; Ctrl-C ends a wait;
#' * errors are classed and name the file;
#' * a path that is not valid text in a known encoding (such as
#'   `"caf\xe9"` unmarked in a UTF-8 session) is an error rather than a
#'   different file name.
#'
#' On Linux the locks are open-file-description locks on the whole file.
#' They conflict with filelock's (classic `fcntl`) locks, so the two
#' packages exclude each other.  On Windows they are `LockFileEx()` locks,
#' the kind filelock takes there.  A process that ends in any way (killed
#' included: SIGKILL, or `TerminateProcess()` on Windows) releases its
#' locks; a lock object that is garbage collected releases its lock.
#'
#' In one process, asking again for the same kind of lock on the same file
#' (by the same path) returns an object [identical()] to the first, as in
#' filelock; each object holds the lock until it is unlocked or collected,
#' and the lock is released when all are.  Asking for the other kind is a
#' `rustipc_error_already_locked` error.
#'
#' A lock belongs to the file, not to its name: if the lock file is deleted
#' (or replaced) while it is locked, the next `lock()` of that path creates
#' and locks a new file, and two processes then hold "the" lock at once
#' (as with filelock and every `fcntl` or `flock` lock).  Lock a file that
#' is never deleted (such as `"data.csv.lock"`, next to the data), or use a
#' [mutex()] named after the file (`mutex(file = "data.csv")`).
#'
#' If filelock is attached after rustipc, `unlock` means
#' `filelock::unlock()`, which returns `TRUE` but cannot release a rustipc
#' lock: call `rustipc::unlock()`.  (The lock is then still held and still
#' prints as held.)
#'
#' @param path The lock file (created if it does not exist).
#' @param exclusive `TRUE` for an exclusive lock, `FALSE` for a shared one.
#'   A shared lock works on a file the user can only read.
#' @param timeout How long to wait, in milliseconds: `0` tries once, `Inf`
#'   (the default) waits until done.
#' @return `lock()` returns a lock object, or `NULL` if the lock was not
#'   acquired in time.  As in filelock, it is a list of a handle (an
#'   external pointer) and the absolute path (UTF-8), of class
#'   `c("rustipc_lock", "filelock_lock")`; `print()` shows
#'   `Lock on 'path'` or `Unlocked lock on 'path'`, quoted by [sQuote()].
#'   A lock object returned by another process is an unlocked lock here.
#'   `unlock()` returns `TRUE`, also when the lock was already released.
#' @family rustipc
#' @export
#' @examples
#' path <- tempfile(fileext = ".lock")
#' lck <- lock(path)
#' print(lck)
#' # Another process (or a timeout of 0 here, for a shared lock) fails:
#' tryCatch(lock(path, exclusive = FALSE, timeout = 0), error = conditionMessage)
#' unlock(lck)
#' print(lck)
#' unlink(path)
lock <- function(path, exclusive = TRUE, timeout = Inf) {
  # Hot path: the native side checks the arguments and makes the path
  # absolute; anything it does not take as it is comes back as an error
  # list (kind "slow_path": checked and converted by lock_slow()).
  h <- .Call(rs_lock, path, exclusive, timeout)
  if (is.null(h)) return(NULL)
  if (!is.null(names(h))) return(lock_slow(h, path, exclusive, timeout))
  oldClass(h) <- lock_class  # structure() would cost a third of lock()
  h
}

# rustipc's class first, so its methods win when filelock is loaded too.
lock_class <- c("rustipc_lock", "filelock_lock")

# What the native side did not take as it is: a path that is not a plain
# string in UTF-8 (converted here, or an error) or starts with ~, a flag or
# timeout not in its plain form.  Only the ~ part goes through
# path.expand(), which works in the session's encoding; a ~ it leaves, as
# in "~nouser", names a file in the working directory.
lock_slow <- function(h, path, exclusive, timeout) {
  if (!identical(h$kind, "slow_path")) rs_fail(h)
  path <- expand_tilde(check_string(path, "path"))
  exclusive <- as.vector(check_flag(exclusive, "exclusive"))
  timeout <- as.vector(check_timeout(timeout, "timeout"))
  h <- .Call(rs_lock, as.vector(path), exclusive, timeout)
  if (is.null(h)) return(NULL)
  if (!is.null(names(h))) {
    if (identical(h$kind, "slow_path")) rs_abort("internal", "internal error: lock() refused checked arguments")
    rs_fail(h)
  }
  oldClass(h) <- lock_class
  h
}

# `path` with a leading ~ or ~user expanded; on Windows a backslash also
# ends the ~ part (path.expand() takes "~\\x" there, and knows no ~user).
expand_tilde <- function(path, windows = on_windows()) {
  if (!startsWith(path, "~")) return(path)
  slash <- regexpr(if (windows) "[/\\\\]" else "/", path)
  head <- if (slash > 0L) substr(path, 1L, slash - 1L) else path
  home <- path.expand(head)
  if (startsWith(home, "~")) {
    paste0("./", path)
  } else {
    paste0(home, if (slash > 0L) substring(path, slash) else "")
  }
}

#' @rdname lock
#' @param lock A lock object made by `lock()`.
#' @export
unlock <- function(lock) {
  # A cheap shape test; the native side checks that the handle is rustipc's.
  if (!is.list(lock) || length(lock) != 2L) not_a_lock(lock)
  r <- .Call(rs_unlock, lock[[1L]])
  if (is.list(r)) {
    if (identical(r$kind, "invalid_argument")) not_a_lock(lock)
    rs_fail(r)
  }
  r
}

not_a_lock <- function(lock) invalid("lock", "a lock object made by rustipc::lock()", lock)

#' @export
print.rustipc_lock <- function(x, ...) {
  held <- .Call(rs_lock_info, x[[1L]])
  if (is.list(held)) not_a_lock(x)
  # sQuote() as in filelock, so useFancyQuotes and the locale apply.
  cat(if (held) "Lock on " else "Unlocked lock on ", sQuote(x[[2L]]), "\n", sep = "")
  invisible(x)
}
