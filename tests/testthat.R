library(testthat)
library(rustipc)
test_check("rustipc")
