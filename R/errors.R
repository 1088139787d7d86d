# The error convention: every error rustipc raises is a condition of class
# c("rustipc_error_<kind>", "rustipc_error", "error", "condition"), raised
# from R.  Rust reports failures as data (a list with kind, message and
# errno); rs_fail() turns that list into the condition.

rs_abort <- function(kind, message, ..., call = NULL) {
  cond <- structure(
    class = c(paste0("rustipc_error_", kind), "rustipc_error", "error", "condition"),
    list(message = message, call = call, kind = kind, ...)
  )
  stop(cond)
}

# Re-signal an interrupt that Rust consumed while checking for it: handlers
# for "interrupt" run as for Ctrl-C, then control returns to the top level.
rs_interrupt <- function() {
  cond <- structure(class = c("interrupt", "condition"),
                    list(message = "", call = NULL))
  signalCondition(cond)
  invokeRestart("abort")
}

# `res` is what a native call returned instead of its result: a list
# list(kind =, message =, errno =).
rs_fail <- function(res, call = NULL) {
  if (identical(res$kind, "interrupt")) rs_interrupt()
  rs_abort(res$kind, res$message, errno = res$errno, call = call)
}
