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
    # Text R cannot read as characters is shown with its bytes escaped.
    if (!validUTF8(x) || Encoding(x) == "bytes") return(encodeString(x, quote = "\""))
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
  as_utf8(x, arg)
}

# Rust reads strings as UTF-8 without checking, so every string goes there as
# valid UTF-8: text whose encoding R knows (marked latin1 or UTF-8, or
# unmarked in the session's encoding) is converted; text marked "bytes" is
# taken if its bytes are valid UTF-8; anything else is an error, never passed
# on.  (enc2utf8() alone would turn "caf\xe9" in a UTF-8 session into the
# valid but different "caf<e9>".)
as_utf8 <- function(x, arg) {
  enc <- Encoding(x)
  if (enc == "latin1") return(enc2utf8(x))
  if (enc != "unknown" && validUTF8(x)) {
    Encoding(x) <- "UTF-8"
    return(x)
  }
  if (enc == "unknown") {
    y <- iconv(x, "", "UTF-8")
    if (!is.na(y)) return(y)
  }
  why <- switch(enc,
    "bytes" = "is marked as \"bytes\" and is not valid UTF-8",
    "UTF-8" = "is marked as UTF-8 but is not valid UTF-8",
    sprintf("is not valid text in this session's encoding (%s)", l10n_info()$codeset)
  )
  rs_abort("invalid_argument",
           sprintf("`%s` %s: %s. Declare its encoding with Encoding() or convert it with iconv().",
                   arg, why, show_value(x)),
           argument = arg)
}

# Whether unmarked strings are UTF-8 in this session (set when the package
# loads).  $send() passes a valid UTF-8 string on through enc2utf8() (which
# converts latin1) and sends the rest through as_utf8().
utf8_session <- TRUE

check_flag <- function(x, arg) {
  if (!is_flag(x)) invalid(arg, "TRUE or FALSE", x)
  x
}

# Milliseconds: a single non-negative number; Inf blocks, 0 tries once.
# As in interprocess, TRUE and FALSE are taken as 1 and 0.
check_timeout <- function(x, arg = "timeout_ms") {
  if (is_flag(x)) return(as.double(x))
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || x < 0) {
    invalid(arg, "a single non-negative number of milliseconds (0 tries once, Inf waits)", x)
  }
  as.double(x)
}

# A whole number in [lo, hi] (TRUE and FALSE count as 1 and 0, as in
# interprocess).
check_whole <- function(x, arg, lo, hi) {
  v <- if (is_flag(x)) as.double(x) else x
  if (!is.numeric(v) || length(v) != 1L || is.na(v) || !is.finite(v) ||
      v != trunc(v) || v < lo || v > hi) {
    invalid(arg, sprintf("a whole number from %s to %s", format(lo, scientific = FALSE),
                         format(hi, scientific = FALSE)), x)
  }
  as.double(v)
}

is_flag <- function(x) is.logical(x) && length(x) == 1L && !is.na(x)

check_name <- function(name, arg = "name") {
  if (inherits(name, "AsIs")) return(check_asis_name(name, arg))
  name <- check_string(name, arg)
  if (!grepl("^[A-Za-z][A-Za-z0-9]{0,249}$", name, perl = TRUE)) {
    invalid(arg, "letters and digits only, starting with a letter, at most 250 characters", name)
  }
  name
}

# Whether this is Windows (an argument default of the checks whose rules
# differ, so that tests on other systems can check the Windows rules too).
on_windows <- function() .Platform$OS.type == "windows"

# A name in I(): interprocess skips its name rules and hands it to the OS.
# rustipc objects are files named after the name, so it must be one valid
# file name, and not start with "." (the object directory's own files do).
# Windows forbids more in file names than Unix does: those names are
# refused here, with the reason, rather than failing in the file system.
# Returned still in I(), so `$name` can be passed back as it is.
check_asis_name <- function(name, arg, windows = on_windows()) {
  x <- check_string(unclass(name), arg)
  n <- nchar(x, type = "bytes")
  why <- if (n == 0L) {
    "must not be empty"
  } else if (x %in% c(".", "..")) {
    "cannot be \".\" or \"..\""
  } else if (startsWith(x, ".")) {
    "cannot start with \".\" (rustipc keeps its own files under such names)"
  } else if (grepl("/", x, fixed = TRUE)) {
    "cannot contain \"/\""
  } else if (n > 255L) {
    sprintf("must be at most 255 bytes in UTF-8 (it is %d)", n)
  } else if (windows) {
    windows_name_problem(x)
  }
  if (!is.null(why)) {
    rs_abort("invalid_argument",
             sprintf("`%s` in I() is used as a file name, so it %s; got %s.", arg, why, show_value(x)),
             argument = arg)
  }
  structure(x, class = "AsIs")
}

# Why `x` cannot be a file name on Windows, or NULL: the characters
# \\ : * ? " < > | and control characters, a trailing space or ".", and the
# device names (CON, NUL, COM1, ... also with an extension, in any case).
windows_name_problem <- function(x) {
  if (grepl("[\\\\:*?\"<>|]", x) || grepl("[[:cntrl:]]", x)) {
    return("cannot contain \\ : * ? \" < > | or control characters on Windows")
  }
  if (grepl("[ .]$", x)) return("cannot end with a space or \".\" on Windows")
  if (grepl("^(con|prn|aux|nul|com[1-9]|lpt[1-9])( *\\..*)?$", x, ignore.case = TRUE)) {
    return("cannot be a device name (CON, PRN, AUX, NUL, COM1-9, LPT1-9) on Windows")
  }
  NULL
}

# NULL, or a prefix of "create" or "exists" in any case, as in interprocess.
check_assert <- function(assert) {
  if (is.null(assert)) return("none")
  if (is.character(assert) && length(assert) == 1L && !is.na(assert) && nzchar(assert)) {
    a <- tolower(assert)
    if (startsWith("create", a)) return("create")
    if (startsWith("exists", a)) return("exists")
  }
  invalid("assert", "NULL, \"create\" or \"exists\" (or the start of one)", assert)
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
# (On Windows with / as the separator, as normalizePath(winslash = "/").)
file_key <- function(path, windows = on_windows()) {
  path <- path.expand(path)
  parts <- character()
  repeat {
    if (file.exists(path) || dirname(path) == path) break
    parts <- c(basename(path), parts)
    path <- dirname(path)
  }
  path <- normalizePath(path, winslash = "/", mustWork = FALSE)
  if (length(parts)) path <- do.call(file.path, as.list(c(path, parts)))
  squeeze_slashes(path, windows)
}

# Repeated slashes are one, except the two that begin a Windows network
# (UNC) path, //server/share/...
squeeze_slashes <- function(path, windows = on_windows()) {
  if (windows) path <- gsub("\\\\", "/", path)
  unc <- windows && startsWith(path, "//")
  path <- gsub("/+", "/", path)
  if (unc) paste0("/", path) else path
}
