#' @export
format.rustipc <- function(x, ...) x$name

#' @export
as.character.rustipc <- function(x, ...) x$name

# As interprocess prints its objects: <mutex> "name".
#' @export
print.rustipc <- function(x, ...) {
  kind <- sub("^rustipc_", "", class(x)[1])
  cat(file = stdout(), "<", kind, "> \"", x$name, "\"\n", sep = "")
  invisible(x)
}
