# The hot calls ($lock(), $unlock(), $post(), $wait(), $send(), $receive(),
# hash())
# pass their arguments to the native code unchecked: it takes them in their
# plain forms (TRUE/FALSE, a non-negative number, ASCII or UTF-8 text) and
# answers anything else with the error kind "slow_path" before doing
# anything.  The C shim (src/entrypoint.c) hands every error list to
# rs_hot_fail(), after the Rust code has returned: it raises the classed
# condition, or runs the checks the closures used to run (which raise the
# classed error for a bad value or convert a good one: TRUE as 1, latin1 text
# to UTF-8, ...) and calls again.  So arguments are checked exactly as
# before, at no cost for the common case.

rs_hot_fail <- function(r, name, a) {
  if (!identical(r$kind, "slow_path")) rs_fail(r)
  h <- a[[1]]
  r <- switch(name,
    hash = hash_slow(h),
    mutex_lock = {
      shared <- as.vector(check_flag(a[[2]], "shared"))
      .Call(rs_mutex_lock_checked, h, shared, check_timeout(a[[3]]))
    },
    mutex_unlock = .Call(rs_mutex_unlock_checked, h, as.vector(check_flag(a[[2]], "warn"))),
    sem_wait = .Call(rs_sem_wait_checked, h, check_timeout(a[[2]])),
    mq_send = {
      msg <- a[[2]]
      if (!is.character(msg) || length(msg) != 1L || is.na(msg)) check_string(msg, "msg")
      msg <- if (utf8_session && validUTF8(msg)) enc2utf8(msg) else as_utf8(msg, "msg")
      msg <- as.vector(msg) # without a class (the native side takes plain values)
      t <- check_timeout(a[[3]])
      .Call(rs_mq_send_checked, h, msg, t, check_whole(a[[4]], "priority", 0, 2147483647))
    },
    mq_receive = .Call(rs_mq_receive_checked, h, check_timeout(a[[2]])),
    r
  )
  if (is.list(r)) {
    # Checked values are in their plain forms: a second "slow_path" is a bug.
    if (identical(r$kind, "slow_path")) {
      rs_abort("internal", sprintf("internal error: %s refused checked arguments", name))
    }
    rs_fail(r)
  }
  r
}
