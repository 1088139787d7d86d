#' @export
format.rustipc <- function(x, ...) x$name

#' @export
as.character.rustipc <- function(x, ...) x$name

#' @export
print.rustipc <- function(x, ...) {
  kind <- sub("^rustipc_", "", class(x)[1])
  cat("<rustipc ", kind, "> ", x$name, "\n", sep = "")
  invisible(x)
}
