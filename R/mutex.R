#' Shared and exclusive locks across processes
#'
#' A mutex grants an *exclusive* lock to one process at a time, or *shared*
#' locks to any number of processes at once (never both).  It is found by
#' name, so any R process on the machine can use it.
#'
#' Unlike interprocess' mutex:
#' * the lock is released the moment its holder dies, however it dies
#'   (SIGKILL included; on Windows, `TerminateProcess()`), and a waiting
#'   process gets it at once;
#' * every wait can be interrupted with Ctrl-C (an R `interrupt` condition;
#'   Esc in RGui);
#' * any non-negative `timeout_ms` works, also above 2^31 ms;
#' * a child made by fork (`parallel::mcparallel()`, not on Windows)
#'   neither holds nor can release its parent's lock;
#' * the object keeps its OS handle; when the last R object of a held mutex
#'   is garbage collected, the lock is released;
#' * a name that belongs to a semaphore or a message queue is a
#'   `rustipc_error_wrong_kind` error; objects are readable and writable by
#'   their creator only (mode 0600; on Windows, in a directory private to
#'   the user, see [rustipc-package]).
#'
#' Locks belong to the process: a second `$lock()` on a mutex this process
#' already holds (through any object of that name) is a
#' `rustipc_error_already_locked` error, not a deadlock.
#'
#' @param name The mutex's name: letters and digits, starting with a letter,
#'   at most 250 characters.  See [uid()] and [hash()].  As in interprocess,
#'   a name in [I()] skips these rules; it must still be one valid file
#'   name (not empty, not `"."` or `".."`, not starting with `"."`, no
#'   `"/"`, at most 255 bytes in UTF-8; on Windows also none of
#'   `\ : * ? " < > |`, no trailing space or `"."`, and no device name such
#'   as `CON` or `NUL`), and `$name` keeps the `I()`.
#' @param assert `NULL` opens the mutex or creates it; `"create"` is an error
#'   (`rustipc_error_already_exists`) if it exists; `"exists"` is an error
#'   (`rustipc_error_not_found`) if it does not.  As in interprocess, any
#'   start of either word, in any case, will do (`"c"`, `"EXISTS"`).
#' @param cleanup If `TRUE`, the mutex is removed when the R session ends
#'   normally.  Otherwise it persists until `$remove()` (or, on Linux, a
#'   reboot: `/dev/shm` is in memory).
#' @param file Instead of `name`: the name is [hash()] of this file's
#'   absolute, normalised path (the file need not exist and is never
#'   touched).  Giving both `name` and `file` is an error.
#' @return `mutex()` returns an object of class `c("rustipc_mutex",
#'   "mutex", "interprocess")` (rustipc's class first, so its
#'   methods are used even when interprocess is loaded), a list with:
#' * `$name`: the name.
#' * `$lock(shared = FALSE, timeout_ms = Inf)`: `TRUE` (invisibly when
#'   `timeout_ms = Inf`) when locked, `FALSE` when `timeout_ms`
#'   milliseconds passed first; `timeout_ms = 0` tries once.
#' * `$unlock(warn = TRUE)`: `TRUE` (invisibly), or `FALSE` with a warning
#'   (unless `warn = FALSE`) when this process does not hold the lock.
#' * `$remove()`: `TRUE` (invisibly) if it removed the mutex, `FALSE` if it
#'   did not exist.
#'
#' Numbers of milliseconds may also be `TRUE` (1) or `FALSE` (0), as in
#' interprocess.  `print()` shows `<mutex> "name"`.
#'
#' `with()` returns the value of `expr` (or of `alt_expr` on timeout),
#' visible or invisible as it was.
#' @section Speed in tight loops:
#' A `$lock()` + `$unlock()` pair costs about 25 empty native calls (`make bench`), and
#' more than half of that is R looking up the two methods: `$` on a classed
#' list first looks for S3 methods, once per class.  In a loop that runs
#' many times, take the methods out of the object once:
#' ```
#' lk <- mut$lock; ul <- mut$unlock
#' for (i in seq_len(1e5)) { lk(); ...; ul() }
#' ```
#' which is about three times as fast.  The methods hold the object's handle, so
#' they stay valid as long as they exist.  Arguments in their plain forms
#' (`TRUE`/`FALSE`, a number, ASCII or UTF-8 text) are checked in native
#' code; anything else goes through R's checks first, which convert it
#' (`TRUE` as 1 ms, latin1 text to UTF-8) or raise the classed error.
#' @family rustipc
#' @export
#' @examples
#' tmp <- tempfile()
#' mut <- mutex(file = tmp)
#' print(mut)
#'
#' # An exclusive lock to write the file
#' with(mut, writeLines("some data", tmp))
#'
#' # A shared lock to read it, giving up at once if it is locked
#' with(mut, readLines(tmp), alt_expr = "busy", shared = TRUE, timeout_ms = 0)
#'
#' # Lock and unlock by hand, with a safeguard
#' if (mut$lock(timeout_ms = 0)) {
#'   local({
#'     on.exit(mut$unlock())
#'     writeLines("more data", tmp)
#'   })
#' }
#'
#' mut$remove()
#' unlink(tmp)
mutex <- function(name = uid(), assert = NULL, cleanup = FALSE, file = NULL) {
  name <- object_name(name, file, missing(name))
  assert <- check_assert(assert)
  cleanup <- check_flag(cleanup, "cleanup")
  h <- .Call(rs_mutex_open, name, assert, cleanup)
  if (is.list(h)) rs_fail(h)
  if (cleanup) register_cleanup("mutex", name)
  structure(class = c("rustipc_mutex", "mutex", "interprocess"), list(
    name = name,
    # The hot calls: arguments are checked natively, and by R only when
    # they are not in their plain forms (R/hot.R).  NULL means done without
    # a deadline, returned invisibly as in interprocess: `r <- TRUE` is
    # TRUE, invisible (the value of an assignment), without the cost of a
    # call to invisible().
    lock = function(shared = FALSE, timeout_ms = Inf) {
      if (is.null(r <- .Call(rs_mutex_lock, h, shared, timeout_ms))) r <- TRUE else r
    },
    unlock = function(warn = TRUE) {
      if (is.null(r <- .Call(rs_mutex_unlock, h, warn))) r <- TRUE else not_locked(name, warn)
    },
    remove = function() {
      r <- .Call(rs_mutex_remove, h)
      if (is.list(r)) rs_fail(r)
      invisible(r)
    }
  ))
}

#' @rdname mutex
#' @param data A `mutex` object.
#' @param expr The expression to evaluate, in the caller's frame, while
#'   holding the lock.  The lock is released afterwards, however `expr`
#'   ends (error and interrupt included), and no interrupt can separate the
#'   taking of the lock from the arming of its release.
#' @param alt_expr The expression to evaluate if the lock was not acquired
#'   within `timeout_ms`.
#' @param shared `FALSE` for an exclusive lock, `TRUE` for a shared one.
#' @param timeout_ms How long to wait, in milliseconds: `0` tries once,
#'   `Inf` (the default) waits until done.
#' @param ... Not used.
#' @export
with.rustipc_mutex <- function(data, expr, alt_expr = NULL, shared = FALSE, timeout_ms = Inf, ...) {
  env <- parent.frame()
  # (as.vector(): the native side takes a plain TRUE/FALSE.)
  r <- .External(rs_with_mutex, handle_of(data), as.vector(check_flag(shared, "shared")),
                 check_timeout(timeout_ms), substitute(base::withVisible(expr)), env)
  with_result(r, substitute(alt_expr), env)
}

# $unlock() of a mutex this process does not hold (`warn` already checked).
not_locked <- function(name, warn) {
  if (warn) warning(sprintf("mutex '%s' is not locked by this process.", name), call. = FALSE)
  FALSE
}
