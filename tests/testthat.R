# processx (under callr) replaces R's SIGCHLD handler, so that parallel
# (the fork tests) does not see its children end; passing SIGCHLD on keeps
# it from reporting "unable to terminate some child processes" at exit
# (r-lib/processx#236).  Set before processx is loaded.
Sys.setenv(PROCESSX_NOTIFY_OLD_SIGCHLD = "true")
library(testthat)
library(rustipc)
test_check("rustipc")
