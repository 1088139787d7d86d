#' rustipc: coordinate R processes
#'
#' rustipc gives R processes on one machine (callr workers, `parallel`
#' children, Rscript jobs, Shiny and plumber servers) ways to coordinate:
#'
#' * [mutex()]: named shared and exclusive locks;
#' * [semaphore()]: a named counter that processes post and wait on;
#' * [msg_queue()]: a named queue of text messages with priorities, each
#'   delivered to exactly one reader;
#' * [lock()] / [unlock()]: locks on files, a drop-in for the filelock package;
#' * [uid()] / [hash()]: safe names for all of these;
#' * `with()` methods that hold a lock, a count or a message for one expression.
#'
#' The API follows the interprocess and filelock packages.  Unlike them, locks
#' are released when their holder dies (even by SIGKILL), every wait can be
#' interrupted with Ctrl-C, a killed process cannot wedge a queue, file locks
#' leak no descriptors and are not handed to forked children, `max_nchar`
#' counts characters, and every error is a classed condition
#' `c("rustipc_error_<kind>", "rustipc_error", "error", "condition")`.
#'
#' rustipc runs on Linux.  Objects live as files in a directory that belongs
#' to the user (mode 0700; `/dev/shm/rustipc-<uid>` by default, see
#' [ipc_objects()]), readable and writable by their owner only.
#'
#' @keywords internal
#' @useDynLib rustipc, .registration = TRUE
"_PACKAGE"
