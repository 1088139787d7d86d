# Evaluate `expr` in `env`, returning its value visible or invisible as it
# was: the with() methods keep the visibility of their expression.
eval_visible <- function(expr, env) {
  v <- withVisible(eval(expr, env))
  if (v$visible) v$value else invisible(v$value)
}
