# format(), as.character() and print() of mutexes, semaphores and queues,
# registered for each of rustipc's classes: a shared parent class would add
# a method lookup to every `m$lock` (R looks for `$` methods once per class
# of the object), and these objects are used in tight loops.

format_ipc <- function(x, ...) x$name

# As interprocess prints its objects: <mutex> "name".
print_ipc <- function(x, ...) {
  kind <- sub("^rustipc_", "", class(x)[1])
  cat(file = stdout(), "<", kind, "> \"", x$name, "\"\n", sep = "")
  invisible(x)
}

#' @export
format.rustipc_mutex <- format_ipc
#' @export
format.rustipc_semaphore <- format_ipc
#' @export
format.rustipc_msg_queue <- format_ipc
#' @export
as.character.rustipc_mutex <- format_ipc
#' @export
as.character.rustipc_semaphore <- format_ipc
#' @export
as.character.rustipc_msg_queue <- format_ipc
#' @export
print.rustipc_mutex <- print_ipc
#' @export
print.rustipc_semaphore <- print_ipc
#' @export
print.rustipc_msg_queue <- print_ipc
