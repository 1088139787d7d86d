#' A counter across processes
#'
#' A semaphore is a count that any process knowing its name can increase
#' (`$post()`) or decrease (`$wait()`); it never goes below zero, so
#' `$wait()` blocks while it is zero.  One `$post()` releases exactly one
#' waiting process.  Use it to limit how many processes use a resource at
#' once, or as a start signal.
#'
#' Every wait can be interrupted with Ctrl-C (an R `interrupt` condition,
#' consuming nothing); any non-negative `timeout_ms` works.  The object keeps
#' its OS handle, names of other kinds are a `rustipc_error_wrong_kind`
#' error, and objects are readable and writable by their creator only.
#'
#' @inheritParams mutex
#' @param value The initial count (a whole number from 0 to 2147483647, or
#'   `TRUE`/`FALSE` for 1/0) when the semaphore is created; ignored when it
#'   exists.
#' @return `semaphore()` returns an object of class
#'   `c("rustipc_semaphore", "semaphore", "interprocess")`, a
#'   list with:
#' * `$name`: the name.
#' * `$post()`: adds one; returns `TRUE` (invisibly).
#' * `$wait(timeout_ms = Inf)`: takes one away; `TRUE` (invisibly when
#'   `timeout_ms = Inf`), or `FALSE` when the count stayed zero for
#'   `timeout_ms` milliseconds; `timeout_ms = 0` tries once.
#' * `$remove()`: `TRUE` (invisibly) if it removed the semaphore, `FALSE`
#'   if it did not exist.
#'
#' `print()` shows `<semaphore> "name"`.
#'
#' `with()` waits, then evaluates `expr` (it does not post back: it consumes
#' one count), or `alt_expr` on timeout, keeping the visibility of the result.
#' @section Speed in tight loops:
#' A `$post()` + `$wait()` pair costs about 25 empty native calls (`make bench`), and
#' more than half of that is R looking up the two methods: `$` on a classed
#' list first looks for S3 methods, once per class.  In a loop that runs
#' many times, take the methods out of the object once:
#' ```
#' post <- sem$post; wait <- sem$wait
#' for (i in seq_len(1e5)) { post(); ...; wait() }
#' ```
#' which is three to four times as fast.  The methods hold the object's handle, so
#' they stay valid as long as they exist.  Arguments in their plain forms
#' (`TRUE`/`FALSE`, a number, ASCII or UTF-8 text) are checked in native
#' code; anything else goes through R's checks first, which convert it
#' (`TRUE` as 1 ms, latin1 text to UTF-8) or raise the classed error.
#' @family rustipc
#' @export
#' @examples
#' sem <- semaphore()
#' print(sem)
#'
#' sem$post()
#' sem$wait(timeout_ms = 0)
#' sem$wait(timeout_ms = 0)
#'
#' sem$post()
#' with(sem, "success", "timed out", timeout_ms = 0)
#' with(sem, "success", "timed out", timeout_ms = 0)
#'
#' sem$remove()
semaphore <- function(name = uid(), assert = NULL, value = 0, cleanup = FALSE, file = NULL) {
  name <- object_name(name, file, missing(name))
  assert <- check_assert(assert)
  value <- check_whole(value, "value", 0, 2147483647)
  cleanup <- check_flag(cleanup, "cleanup")
  h <- .Call(rs_sem_open, name, assert, value, cleanup)
  if (is.list(h)) rs_fail(h)
  if (cleanup) register_cleanup("semaphore", name)
  structure(class = c("rustipc_semaphore", "semaphore", "interprocess"), list(
    name = name,
    # The hot calls (see R/hot.R and mutex(): `r <- x` returns x invisibly).
    post = function() r <- .Call(rs_sem_post, h),
    wait = function(timeout_ms = Inf) {
      if (is.null(r <- .Call(rs_sem_wait, h, timeout_ms))) r <- TRUE else r
    },
    remove = function() {
      r <- .Call(rs_sem_remove, h)
      if (is.list(r)) rs_fail(r)
      invisible(r)
    }
  ))
}

#' @rdname semaphore
#' @param data A `semaphore` object.
#' @param expr The expression to evaluate, in the caller's frame, after a
#'   successful wait.  If an interrupt ends `expr`, the count is posted
#'   back (it was taken for an expression that did not complete); an error
#'   in `expr` consumes it, as in interprocess.
#' @param alt_expr The expression to evaluate if `timeout_ms` passed first.
#' @export
with.rustipc_semaphore <- function(data, expr, alt_expr = NULL, timeout_ms = Inf, ...) {
  env <- parent.frame()
  r <- .External(rs_with_semaphore, handle_of(data), check_timeout(timeout_ms),
                 substitute(base::withVisible(expr)), env)
  with_result(r, substitute(alt_expr), env)
}
