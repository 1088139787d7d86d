#' List rustipc objects
#'
#' Lists the mutexes, semaphores and message queues in `/dev/shm` that this
#' user can see, so that objects left behind by crashed sessions can be found
#' and removed (open them with `assert = "exists"` and call `$remove()`).
#'
#' @return A data frame with one row per object:
#' * `name`: the object's name;
#' * `kind`: `"mutex"`, `"semaphore"`, `"msg_queue"`, `"partial"` (the
#'   temporary file of a creator that died while creating an object, safe to
#'   delete) or `"unreadable"` (another user's object);
#' * `size`: bytes;
#' * `modified`: when it was last modified (`POSIXct`);
#' * `locked`: for mutexes, whether any process holds it right now; `NA`
#'   for the other kinds.
#' @family rustipc
#' @export
#' @examples
#' m <- mutex()
#' objs <- ipc_objects()
#' objs[objs$name == m$name, ]
#' m$remove()
ipc_objects <- function() {
  r <- .Call(wrap__rs_objects)
  if (!is.null(r$kind) && !is.character(r$name)) rs_fail(r)
  data.frame(
    name = r$name, kind = r$kind, size = r$size,
    modified = as.POSIXct(r$modified, origin = "1970-01-01"),
    locked = r$locked, stringsAsFactors = FALSE
  )
}
