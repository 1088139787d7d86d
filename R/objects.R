#' List rustipc objects
#'
#' Lists this user's mutexes, semaphores and message queues, so that objects
#' left behind by crashed sessions can be found and removed (open them with
#' `assert = "exists"` and call `$remove()`).  Listing only reads: it takes
#' no lock, never blocks, and skips files that are not rustipc objects.
#'
#' Objects live in the user's object directory: `/dev/shm/rustipc-<uid>` on
#' Linux, `%LOCALAPPDATA%\rustipc` on Windows, else `rustipc-<uid>` in the
#' temporary directory; or the directory named by the environment variable
#' `RUSTIPC_DIR`.  On Unix the directory must belong to the user and have
#' mode 0700; rustipc refuses any other (`rustipc_error_permission`).  On
#' Windows it is private to the user by the access control of the user's
#' profile (see [rustipc-package]).
#'
#' @return A data frame with one row per object:
#' * `name`: the object's name;
#' * `kind`: `"mutex"`, `"semaphore"`, `"msg_queue"`, or `"partial"` (the
#'   temporary file of a creator that died while creating an object, safe to
#'   delete);
#' * `size`: bytes;
#' * `modified`: when it was last modified (`POSIXct`);
#' * `locked`: for mutexes, whether a live process holds it right now; `NA`
#'   for the other kinds;
#' * `state`: for mutexes, `"unlocked"`, `"locked"`, or `"holder died"` (its
#'   holder was killed while holding it; the next `$lock()` takes it over);
#'   `NA` for the other kinds;
#' * `creator`: the process id of the process that created it;
#' * `cleanup`: whether it was created with `cleanup = TRUE`;
#' * `orphaned`: whether it was created with `cleanup = TRUE` by a process
#'   that has ended without removing it (killed, ended by a signal such as
#'   SIGTERM or SIGHUP, or a `parallel` child; on Windows, ended by
#'   `TerminateProcess()`); [ipc_cleanup()] removes
#'   these.  Also `TRUE` for a `"partial"` file whose creator is gone.
#' @family rustipc
#' @export
#' @examples
#' m <- mutex()
#' objs <- ipc_objects()
#' objs[objs$name == m$name, ]
#' m$remove()
ipc_objects <- function() {
  r <- .Call(rs_objects)
  if (!is.null(r$kind) && !is.null(r$errno)) rs_fail(r)
  data.frame(
    name = r$name, kind = r$kind, size = r$size,
    modified = as.POSIXct(r$modified, origin = "1970-01-01"),
    locked = r$locked, state = r$state, creator = r$creator, cleanup = r$cleanup,
    orphaned = r$orphaned, stringsAsFactors = FALSE
  )
}

# The object directory this process uses (created and verified on the way).
object_dir_used <- function() {
  r <- .Call(rs_object_dir)
  if (is.list(r)) rs_fail(r)
  r
}

#' Remove orphaned objects
#'
#' Objects made with `cleanup = TRUE` are removed when their creator's R
#' session ends normally.  A session that is killed, or ended by a signal
#' (SIGTERM and SIGHUP are how containers and job schedulers stop R), or on
#' Windows ended by `TerminateProcess()` (Task Manager's "End task",
#' `taskkill /F`, [tools::pskill()]), cannot remove them; every object
#' records its creator's process token, so such
#' objects are recognised as orphaned (see [ipc_objects()]) once the
#' creator is gone.  `ipc_cleanup()` removes them, with the temporary files
#' of creators that died while creating an object.  rustipc calls it when it
#' is loaded, so orphans do not outlive the next R session that uses
#' rustipc.  Objects made with `cleanup = FALSE` are never touched.
#'
#' @return The names of the removed objects, invisibly.
#' @family rustipc
#' @export
#' @examples
#' ipc_cleanup()
ipc_cleanup <- function() {
  r <- .Call(rs_cleanup_orphans)
  if (is.list(r)) rs_fail(r)
  invisible(r)
}
