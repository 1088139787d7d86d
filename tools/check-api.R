# Checks that a built shared library uses only R's API:
#
#   Rscript tools/check-api.R path/to/rustipc.so
#
# Lists the library's undefined dynamic symbols, keeps those R itself
# defines (so libc's and the loader's are ignored), and classifies each with
# the running R's own list of its API (tools:::funAPI(), R >= 4.5) plus the
# variables Writing R Extensions documents.  Prints a table and exits 1
# when any symbol is not allowed for a package.  R CMD check only notes the
# entry points in tools:::nonAPI; this also catches what no list names
# (e.g. R_interrupts_pending), which CRAN may hide or remove without notice.
# Needs nm (binutils).  On an R without funAPI() it says so and exits 0.

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1L || !file.exists(args[1L])) {
  cat("usage: Rscript tools/check-api.R path/to/package.so\n")
  quit(status = 2)
}
lib <- normalizePath(args[1L])

tools_ns <- asNamespace("tools")
if (!exists("funAPI", envir = tools_ns, inherits = FALSE)) {
  cat(sprintf("check-api: R %s has no tools:::funAPI() (added in R 4.5.0): API check skipped\n",
              getRversion()))
  quit(status = 0)
}
if (!nzchar(Sys.which("nm"))) {
  cat("check-api: nm not found (install binutils)\n")
  quit(status = 2)
}

# Dynamic symbols of a shared object: nm -D prints "[address] TYPE name";
# versioned ones (memcpy@GLIBC_2.14) lose their version.
dyn_syms <- function(file, which) {
  out <- suppressWarnings(system2("nm", c("-D", which, shQuote(file)),
                                  stdout = TRUE, stderr = TRUE))
  st <- attr(out, "status")
  if (!is.null(st) && st != 0L) {
    cat(sprintf("check-api: nm -D %s %s failed:\n", which, file), out, sep = "\n")
    quit(status = 2)
  }
  f <- strsplit(trimws(out), "[[:space:]]+")
  syms <- vapply(f, function(x) x[length(x)], "")
  unique(sub("@.*$", "", syms[nzchar(syms)]))
}

undef <- dyn_syms(lib, "--undefined-only")

api <- tools:::funAPI()              # name (as linked: Rf_error), loc, apitype
nonapi <- get0("nonAPI", envir = tools_ns, inherits = FALSE, ifnotfound = character())

# The variables that Writing R Extensions documents for packages (marked
# @apivar/@eapivar in R-devel's R-exts.texi, 2025; R_NaN in "Missing and
# special values").  They are not functions, so funAPI() does not list them.
# NA_INTEGER and NA_LOGICAL are R_NaInt, NA_REAL is R_NaReal and NA_STRING
# is R_NaString once the macros are expanded.
api_vars <- c(
  "R_NilValue", "R_GlobalEnv", "R_BaseEnv", "R_EmptyEnv", "R_BaseNamespace",
  "R_MissingArg", "R_UnboundValue",
  "R_NamesSymbol", "R_ClassSymbol", "R_DimSymbol", "R_DimNamesSymbol",
  "R_LevelsSymbol", "R_RowNamesSymbol",
  "R_NaInt", "R_NaReal", "R_NaString", "R_BlankString",
  "R_NaN", "R_PosInf", "R_NegInf")

# funAPI() names most entry points as linked (Rf_error, CAR), but the
# functions of Rmath.h without the Rf_ their header maps them to (fmax2 is
# linked as Rf_fmax2) and Fortran ones without the trailing _ (d1mach_).
api_row <- function(s) {
  for (n in unique(c(s, sub("^Rf_", "", s), sub("_$", "", s)))) {
    i <- match(n, api$name)
    if (!is.na(i)) return(i)
  }
  NA_integer_
}

# Which of the undefined symbols are R's: those R's shared library defines.
# An R built without --enable-R-shlib has no libR.so (the symbols are in the
# R executable); then go by R's naming (Rf_*, R_*) and R's lists instead.
libR <- file.path(R.home("lib"), paste0("libR", .Platform$dynlib.ext))
if (file.exists(libR)) {
  from_r <- intersect(undef, dyn_syms(libR, "--defined-only"))
  how <- sprintf("the symbols %s defines", libR)
} else {
  listed <- !is.na(vapply(undef, api_row, 0L)) | undef %in% c(nonapi, api_vars)
  from_r <- undef[grepl("^(Rf_|R_)", undef) | listed]
  how <- "names like R's (no libR: R is linked statically)"
}
from_r <- sort(from_r, method = "radix")

class_of <- function(s) {
  if (s %in% nonapi) return("nonAPI")            # R CMD check's own list
  i <- api_row(s)
  if (!is.na(i)) return(api$apitype[i])          # api, eapi or emb
  if (s %in% api_vars) return("api-var")
  "unlisted"
}
cls <- vapply(from_r, class_of, "")
allowed <- cls %in% c("api", "eapi", "api-var")

cat(sprintf("check-api: %s on R %s: %d undefined symbols, %d from R (%s)\n",
            basename(lib), getRversion(), length(undef), length(from_r), how))
if (length(from_r))
  cat(sprintf("  %-32s %s%s\n", from_r, cls, ifelse(allowed, "", "   <-- not allowed")), sep = "")
if (any(!allowed)) {
  cat(sprintf("check-api: FAILED: %d symbol(s) outside R's API: %s\n", sum(!allowed),
              paste(sprintf("%s (%s)", from_r[!allowed], cls[!allowed]), collapse = ", ")))
  cat("  (nonAPI: R CMD check's list of non-API entry points; emb: only for embedding R;\n",
      "  unlisted: neither funAPI() nor the documented variables name it)\n", sep = "")
  quit(status = 1)
}
cat("check-api: ok, every symbol from R is in its API\n")
