# Evaluate `expr` in `env`, returning its value visible or invisible as it
# was: the with() methods keep the visibility of their expression.
eval_visible <- function(expr, env) {
  v <- withVisible(eval(expr, env))
  if (v$visible) v$value else invisible(v$value)
}

# The native handle inside an object made by mutex(), semaphore() or
# msg_queue() (its methods' enclosing environment holds it as `h`).
handle_of <- function(obj) environment(obj[["remove"]])$h

# What the native with() returned: FALSE (timed out: evaluate `alt_expr`),
# an error list, the interrupt condition that ended `expr` (signal it
# again), or withVisible()'s list.
with_result <- function(r, alt_expr, env) {
  if (isFALSE(r)) return(eval_visible(alt_expr, env))
  if (inherits(r, "interrupt")) rs_interrupt()
  if (!is.null(r$errno)) rs_fail(r)
  if (r$visible) r$value else invisible(r$value)
}
