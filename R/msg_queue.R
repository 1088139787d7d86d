#' Text messages between processes
#'
#' A message queue holds up to `max_count` text messages of up to
#' `max_nchar` characters.  Each message is delivered to exactly one
#' `$receive()`: the highest `priority` first, and first in, first out among
#' equal priorities.  Ideal for worker pools: the message can be a job id, a
#' JSON string or the path of an RDS file.
#'
#' Unlike interprocess' message queue:
#' * `max_nchar` counts characters, not bytes; messages come back exactly as
#'   sent, marked UTF-8 (text in another encoding is converted on send, and
#'   text whose encoding R does not know, such as `"caf\xe9"` unmarked in a
#'   UTF-8 session, is a `rustipc_error_invalid_argument` error);
#' * a process killed at any point of `$send()` or `$receive()` cannot wedge
#'   or corrupt the queue: only the message it was sending or receiving can be
#'   affected;
#' * every wait can be interrupted with Ctrl-C, sending or consuming nothing;
#' * `timeout_ms` is honoured even when another process is stopped
#'   (`SIGSTOP`, a debugger) in the middle of a send or receive: the queue's
#'   internal lock, which a process holds only while it copies one message
#'   in or out (a memory copy of the message),
#'   is waited for until the deadline, and at least 20 ms;
#' * a too-long message is a `rustipc_error_too_long` error that gives its
#'   length and the limit.
#'
#' @inheritParams mutex
#' @param max_count The most messages the queue holds at once (a whole number
#'   of at least 1, or `TRUE`); applies when the queue is created.
#' @param max_nchar The most characters in one message (at least 1, or
#'   `TRUE`); applies when the queue is created.
#' @return `msg_queue()` returns an object of class
#'   `c("rustipc_msg_queue", "msg_queue", "interprocess")`, a list
#'   with, in interprocess' order:
#' * `$name`: the name.
#' * `$send(msg, timeout_ms = Inf, priority = 0)`: `TRUE` (invisibly when
#'   `timeout_ms = Inf`), or `FALSE` when the queue stayed full for
#'   `timeout_ms` milliseconds.  `msg` is one string (`""` is fine);
#'   `priority` a whole number from 0 to 2147483647.
#' * `$receive(timeout_ms = Inf)`: the next message, or `NULL` when the queue
#'   stayed empty for `timeout_ms` milliseconds.
#' * `$count()`: the number of waiting messages.
#' * `$remove()`: `TRUE` (invisibly) if it removed the queue, `FALSE` if it
#'   did not exist.
#' * `$max_count()`, `$max_nchar()`: the queue's real limits (integers).
#'
#' `print()` shows `<msg_queue> "name"`.
#'
#' `with()` receives one message and evaluates `expr` in the caller's frame
#' with the message bound to `.` (afterwards `.` is removed, or restored if
#' the caller had one); on timeout it evaluates `alt_expr`.
#' @section Speed in tight loops:
#' A `$send()` + `$receive()` pair costs about 35 empty native calls (`make
#' bench`), and about half of that is R looking up the two methods: `$` on a classed
#' list first looks for S3 methods, once per class.  In a loop that runs
#' many times, take the methods out of the object once:
#' ```
#' send <- mq$send; receive <- mq$receive
#' for (i in seq_len(1e5)) { send(msg); ...; receive() }
#' ```
#' which is about twice as fast.  The methods hold the object's handle, so
#' they stay valid as long as they exist.  Arguments in their plain forms
#' (`TRUE`/`FALSE`, a number, ASCII or UTF-8 text) are checked in native
#' code; anything else goes through R's checks first, which convert it
#' (`TRUE` as 1 ms, latin1 text to UTF-8) or raise the classed error.
#' @family rustipc
#' @export
#' @examples
#' mq <- msg_queue()
#' print(mq)
#'
#' mq$send(paste("my favourite number is", floor(runif(1) * 100)))
#' mq$count()
#'
#' mq$receive()
#' mq$receive(timeout_ms = 0)
#'
#' mq$send("low", priority = 0)
#' mq$send("high", priority = 5)
#' with(mq, paste("got message:", .), "no messages", timeout_ms = 0)
#' with(mq, paste("got message:", .), "no messages", timeout_ms = 0)
#' with(mq, paste("got message:", .), "no messages", timeout_ms = 0)
#'
#' mq$remove()
msg_queue <- function(name = uid(), assert = NULL, max_count = 100, max_nchar = 128,
                      cleanup = FALSE, file = NULL) {
  name <- object_name(name, file, missing(name))
  assert <- check_assert(assert)
  max_count <- check_whole(max_count, "max_count", 1, 2147483647)
  max_nchar <- check_whole(max_nchar, "max_nchar", 1, 2147483647)
  cleanup <- check_flag(cleanup, "cleanup")
  h <- .Call(rs_mq_open, name, assert, max_count, max_nchar, cleanup)
  if (is.list(h)) rs_fail(h)
  if (cleanup) register_cleanup("msg_queue", name)
  info <- function() {
    r <- .Call(rs_mq_info, h)
    if (is.list(r)) rs_fail(r)
    r
  }
  # The elements come in interprocess' order.
  structure(class = c("rustipc_msg_queue", "msg_queue", "interprocess"), list(
    name = name,
    # The hot calls (see R/hot.R and mutex(): `r <- x` returns x invisibly).
    send = function(msg, timeout_ms = Inf, priority = 0) {
      if (is.null(r <- .Call(rs_mq_send, h, msg, timeout_ms, priority))) r <- TRUE else r
    },
    receive = function(timeout_ms = Inf) .Call(rs_mq_receive, h, timeout_ms),
    count = function() info()[1],
    remove = function() {
      r <- .Call(rs_mq_remove, h)
      if (is.list(r)) rs_fail(r)
      invisible(r)
    },
    max_count = function() info()[2],
    max_nchar = function() info()[3]
  ))
}

#' @rdname msg_queue
#' @param data A `msg_queue` object.
#' @param expr The expression to evaluate, in the caller's frame, with the
#'   received message bound to `.`.  No interrupt can come between the
#'   message leaving the queue and `expr` starting; if the process is killed
#'   before `expr` ends, the message goes back to the queue (it is delivered
#'   again, in its original order).
#' @param alt_expr The expression to evaluate if no message came within
#'   `timeout_ms`.
#' @export
with.rustipc_msg_queue <- function(data, expr, alt_expr = NULL, timeout_ms = Inf, ...) {
  env <- parent.frame()
  timeout_ms <- check_timeout(timeout_ms)
  had <- exists(".", envir = env, inherits = FALSE)
  if (had) old <- get(".", envir = env, inherits = FALSE)
  # (try(): a locked `.` was never changed, and restoring it fails.)
  on.exit(try(if (had) assign(".", old, envir = env) else suppressWarnings(rm(".", envir = env)),
              silent = TRUE))
  r <- .External(rs_with_msg_queue, handle_of(data), timeout_ms,
                 substitute(base::withVisible(expr)), env)
  if (is.null(r)) return(eval_visible(substitute(alt_expr), env))
  with_result(r, NULL, env)
}
