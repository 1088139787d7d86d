# R profile for `R CMD check --as-cran` on a machine without internet: every
# standard repository points at an empty local one, so the checks that look
# packages up in repositories get an answer instead of a download error.
local({
  repo <- file.path(tempdir(), "empty-repo")
  dir.create(file.path(repo, "src", "contrib"), recursive = TRUE, showWarnings = FALSE)
  file.create(file.path(repo, "src", "contrib", "PACKAGES"))
  url <- paste0("file://", repo)
  options(repos = c(CRAN = url, BioCsoft = url, BioCann = url, BioCexp = url))
})
