# Objects made with cleanup = TRUE, removed when the R session ends normally.
# Only (kind, name) is kept, so the registry does not keep handles (and
# locks) alive; the native remove checks the kind before unlinking.
the <- new.env(parent = emptyenv())
the$cleanup <- list()

register_cleanup <- function(kind, name) {
  the$cleanup[[paste(kind, name)]] <- c(kind, name)
  invisible()
}

run_cleanup <- function(...) {
  for (obj in the$cleanup) try(.Call(rs_remove_name, obj[2], obj[1]), silent = TRUE)
  the$cleanup <- list()
}

.onLoad <- function(libname, pkgname) {
  # (The namespace is not sealed yet.)
  utf8_session <<- isTRUE(l10n_info()[["UTF-8"]])
  reg.finalizer(the, run_cleanup, onexit = TRUE)
  # Orphans of sessions that ended by a signal (see ?ipc_cleanup).
  try(ipc_cleanup(), silent = TRUE)
}
