# Argument checks shared by every exported function.  Each returns the
# normalised value or raises a rustipc_error_invalid_argument that names the
# argument and shows the bad value.

show_value <- function(x) {
  if (is.null(x)) return("NULL")
  if (is.function(x)) return("a function")
  if (is.environment(x)) return("an environment")
  if (length(x) != 1L) {
    return(sprintf("a %s vector of length %d", class(x)[1], length(x)))
  }
  if (is.character(x) && !is.na(x)) {
    s <- if (nchar(x, allowNA = TRUE) > 40) paste0(substr(x, 1, 40), "...") else x
    return(sprintf("\"%s\"", s))
  }
  paste(format(x), collapse = " ")
}

invalid <- function(arg, must, value) {
  rs_abort("invalid_argument",
           sprintf("`%s` must be %s, not %s.", arg, must, show_value(value)),
           argument = arg)
}

check_string <- function(x, arg) {
  if (!is.character(x) || length(x) != 1L || is.na(x)) {
    invalid(arg, "a single string (not NA)", x)
  }
  enc2utf8(x)
}

check_flag <- function(x, arg) {
  if (!is.logical(x) || length(x) != 1L || is.na(x)) {
    invalid(arg, "TRUE or FALSE", x)
  }
  x
}

# Milliseconds: a single non-negative number; Inf blocks, 0 tries once.
check_timeout <- function(x, arg = "timeout_ms") {
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || x < 0) {
    invalid(arg, "a single non-negative number of milliseconds (0 tries once, Inf waits)", x)
  }
  as.double(x)
}

# A whole number in [lo, hi].
check_whole <- function(x, arg, lo, hi) {
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || !is.finite(x) ||
      x != trunc(x) || x < lo || x > hi) {
    invalid(arg, sprintf("a whole number from %s to %s", format(lo, scientific = FALSE),
                         format(hi, scientific = FALSE)), x)
  }
  as.double(x)
}

check_name <- function(name, arg = "name") {
  name <- check_string(name, arg)
  if (!grepl("^[A-Za-z][A-Za-z0-9]{0,249}$", name, perl = TRUE)) {
    invalid(arg, "letters and digits only, starting with a letter, at most 250 characters", name)
  }
  name
}

check_assert <- function(assert) {
  if (is.null(assert)) return("none")
  if (!is.character(assert) || length(assert) != 1L || is.na(assert) ||
      !assert %in% c("create", "exists")) {
    invalid("assert", "NULL, \"create\" or \"exists\"", assert)
  }
  assert
}

# The name of an object: `name`, or the hash of `file`'s absolute path.
object_name <- function(name, file, missing_name) {
  if (is.null(file)) return(check_name(name))
  if (!missing_name) {
    rs_abort("invalid_argument", "Give `name` or `file`, not both.", argument = "file")
  }
  hash(file_key(check_string(file, "file")))
}

# An absolute, normalised path, the same whether or not the file exists yet.
file_key <- function(path) {
  path <- path.expand(path)
  parts <- character()
  repeat {
    if (file.exists(path) || dirname(path) == path) break
    parts <- c(basename(path), parts)
    path <- dirname(path)
  }
  path <- normalizePath(path, winslash = "/", mustWork = FALSE)
  if (length(parts)) path <- do.call(file.path, as.list(c(path, parts)))
  gsub("/+", "/", path)
}
