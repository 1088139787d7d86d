#' Lock a file
#'
#' A drop-in for the filelock package: `lock()` and `unlock()` keep
#' filelock's arguments, defaults and return values, so code ports by
#' changing the package name.  Lock a separate lock file (such as
#' `"data.csv.lock"`), which `lock()` creates if needed and never deletes.
#'
#' Unlike filelock's locks:
#' * failed, timed-out and interrupted attempts leave no file descriptor
#'   open, and descriptors are close-on-exec;
#' * reading or writing the lock file in the holding process does not
#'   release the lock, and a symlink or another path to the same file is the
#'   same lock (files are identified by device and inode);
#' * a child made by fork (`parallel::mcparallel()`) is not handed its
#'   parent's lock;
#' * a waiter gets the lock as soon as it is released, without polling, and
#'   no SIGALRM or interval timer is used; Ctrl-C ends a wait;
#' * errors are classed and name the file.
#'
#' The locks are Linux open-file-description locks on the whole file.  They
#' conflict with filelock's (classic `fcntl`) locks, so the two packages
#' exclude each other.  A process that ends in any way releases its locks; a
#' lock object that is garbage collected releases its lock.
#'
#' In one process, asking again for the same kind of lock on the same file
#' returns another handle to the lock already held (it is released when every
#' handle is unlocked or collected); asking for the other kind is a
#' `rustipc_error_already_locked` error.
#'
#' @param path The lock file (created if it does not exist).
#' @param exclusive `TRUE` for an exclusive lock, `FALSE` for a shared one.
#'   A shared lock works on a file the user can only read.
#' @param timeout How long to wait, in milliseconds: `0` tries once, `Inf`
#'   (the default) waits until done.
#' @return `lock()` returns a lock object of class `rustipc_lock`, or `NULL`
#'   if the lock was not acquired in time.  `unlock()` returns `TRUE`, also
#'   when the lock was already released.
#' @family rustipc
#' @export
#' @examples
#' path <- tempfile(fileext = ".lock")
#' lck <- lock(path)
#' print(lck)
#' # Another process (or a timeout of 0 here, for a shared lock) fails:
#' lock(path, exclusive = FALSE, timeout = 0) |> tryCatch(error = conditionMessage)
#' unlock(lck)
#' print(lck)
#' unlink(path)
lock <- function(path, exclusive = TRUE, timeout = Inf) {
  # Hot path: the checks are inlined; check_*() only run to raise the error.
  if (!is.character(path) || length(path) != 1L || is.na(path)) check_string(path, "path")
  if (!is.logical(exclusive) || length(exclusive) != 1L || is.na(exclusive)) {
    check_flag(exclusive, "exclusive")
  }
  if (!is.numeric(timeout) || length(timeout) != 1L || is.na(timeout) || timeout < 0) {
    check_timeout(timeout, "timeout")
  }
  # The native side makes the path absolute.
  if (startsWith(path, "~")) path <- path.expand(path)
  h <- .Call(wrap__rs_lock, enc2native(path), exclusive, as.double(timeout))
  if (is.null(h)) return(NULL)
  if (is.list(h)) rs_fail(h)
  h <- list(handle = h)
  oldClass(h) <- "rustipc_lock"  # structure() would cost a third of lock()
  h
}

#' @rdname lock
#' @param lock A lock object made by `lock()`.
#' @export
unlock <- function(lock) {
  if (!inherits(lock, "rustipc_lock")) {
    invalid("lock", "a lock object made by rustipc::lock()", lock)
  }
  r <- .Call(wrap__rs_unlock, lock$handle)
  if (is.list(r)) rs_fail(r)
  r
}

#' @export
print.rustipc_lock <- function(x, ...) {
  info <- .Call(wrap__rs_lock_info, x$handle)
  if (!is.null(info$kind)) rs_fail(info)
  cat(if (isTRUE(info$held)) "Lock" else "Unlocked lock", " on \u2018", info$path, "\u2019\n", sep = "")
  invisible(x)
}
