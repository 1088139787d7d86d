# Runs the testthat suite against the installed package and ends with one
# line "testthat: N passed, N failed, N skipped"; exits 1 on any failure.
# processx (under callr) replaces R's SIGCHLD handler, so parallel (fork
# tests) never hears of its children ending and prints "Error while shutting
# down parallel: unable to terminate some child processes" at exit; with
# this set before processx loads, processx passes SIGCHLD on
# (r-lib/processx#236).
Sys.setenv(PROCESSX_NOTIFY_OLD_SIGCHLD = "true")
testthat::set_max_fails(Inf)
args <- commandArgs(trailingOnly = TRUE)
filter <- if (length(args)) args[1] else NULL
res <- testthat::test_dir("tests/testthat", package = "rustipc",
                          load_package = "installed", filter = filter,
                          reporter = testthat::ProgressReporter$new(show_praise = FALSE),
                          stop_on_failure = FALSE)
df <- as.data.frame(res)
failed <- sum(df$failed) + sum(df$error)
skipped <- sum(df$skipped)
passed <- sum(df$nb) - sum(df$failed) - sum(df$skipped) - sum(df$warning)
cat(sprintf("\ntestthat: %d passed, %d failed, %d skipped\n", passed, failed, skipped))
quit(status = if (failed > 0) 1 else 0)
