test_that("uid() has the documented format", {
  ids <- replicate(2000, uid())
  expect_true(all(nchar(ids) == 11))
  expect_true(all(grepl("^[A-R][A-Za-z0-9]{10}$", ids)))
  expect_false(anyDuplicated(ids) > 0)
})

test_that("uid() never repeats within a process", {
  ids <- vapply(1:30000, function(i) uid(), "")
  expect_false(anyDuplicated(ids) > 0)
})

test_that("forked children repeat neither each other nor the parent", {
  skip_on_os("windows")
  before <- vapply(1:200, function(i) uid(), "")
  kids <- parallel::mclapply(1:4, function(i) vapply(1:500, function(j) uid(), ""),
                             mc.cores = 2, mc.preschedule = FALSE)
  after <- vapply(1:200, function(i) uid(), "")
  all_ids <- c(before, unlist(kids), after)
  expect_length(all_ids, 2400)
  expect_false(anyDuplicated(all_ids) > 0)
})

test_that("concurrent processes make distinct uids", {
  skip_if_not_installed("callr")
  make <- function() vapply(1:3000, function(i) rustipc::uid(), "")
  ps <- lapply(1:3, function(i) bg(make))
  for (p in ps) p$wait(60000)
  ids <- c(unlist(lapply(ps, function(p) p$get_result())), vapply(1:1000, function(i) uid(), ""))
  expect_length(ids, 10000)
  expect_false(anyDuplicated(ids) > 0)
})

test_that("a fresh process makes 10,000 uids within a second", {
  skip_if_no_timing()
  # Measured inside a new process, so the burst comes right after start.
  secs <- in_child(function() {
    t <- proc.time()[["elapsed"]]
    ids <- vapply(1:10000, function(i) rustipc::uid(), "")
    stopifnot(!anyDuplicated(ids))
    proc.time()[["elapsed"]] - t
  })
  expect_lt(secs, 1)
})

test_that("hash() matches pinned XXH3-64 values in base 62", {
  # Pinned vectors, computed independently (Python's xxhash.xxh3_64 with the
  # same base-62 alphabet).
  expect_identical(hash(""), "d1PEbiccFig")
  expect_identical(hash("a"), "tYzjIA7KSLP")
  expect_identical(hash("1"), "iT26CGAfV2q")
  expect_identical(hash("hello world"), "sn7NcXQ7MIp")
  expect_identical(hash("h\u00e9llo w\u00f6rld \u2713 \u65e5\u672c\u8a9e"), "ahFLsMsEw0a")
  expect_identical(hash(strrep("x", 10000)), "rDbzY1Ez6rT")
  expect_identical(hash("192.168.1.123:8011"), "gka8wa88Npa")
})

test_that("hash() has the documented format and converts numbers", {
  hs <- vapply(as.character(1:2000), hash, "")
  expect_true(all(grepl("^[a-v][A-Za-z0-9]{10}$", hs)))
  expect_false(anyDuplicated(hs) > 0)
  expect_identical(hash(1), hash("1"))
  expect_identical(hash(TRUE), hash("TRUE"))
})

test_that("hash() hashes UTF-8 bytes whatever the input encoding", {
  s <- "h\u00e9llo"
  latin <- iconv(s, "UTF-8", "latin1")
  expect_identical(Encoding(latin), "latin1")
  expect_identical(hash(latin), hash(s))
})

test_that("hash() rejects bad input with a classed error", {
  for (bad in list(NA, NA_character_, NULL, c("a", "b"), character(), list(), list("a", "b"), sum)) {
    expect_error(hash(bad), class = "rustipc_error_invalid_argument")
  }
  err <- tryCatch(hash(NA), error = identity)
  expect_match(conditionMessage(err), "`str`")
  expect_s3_class(err, "rustipc_error")
})

test_that("hash() values are pinned, through the native path and R's fallback alike", {
  # The values rustipc gave before hash() took its native path (computed
  # with the build before that change; XXH3-64 of the UTF-8 bytes).
  b <- "abc\u00e9"; Encoding(b) <- "bytes"
  inputs <- list("", "a", "192.168.1.123:8011", strrep("x", 100), "caf\u00e9",
                 "\u65e5\u672c\u8a9e", "\U0001F600", 1, 1L, 3.5, TRUE, factor("lvl"),
                 as.Date("2024-02-29"), iconv("caf\u00e9", "UTF-8", "latin1"),
                 structure("bytes ok", class = "foo"), b)
  expected <- c("d1PEbiccFig", "tYzjIA7KSLP", "gka8wa88Npa", "rqhmU6xM71a",
                "gJr0Z6YAp7P", "bHW0WSHM47T", "a8ntbkeUGtK", "iT26CGAfV2q", "iT26CGAfV2q",
                "bxrYIuU2XKF", "cDQhtGgDqJC", "frKWvRy2o4w", "b2tLBUV1aHy", "gJr0Z6YAp7P",
                "eayvAOu8oyd", "boUtf4Nz3x7")
  expect_identical(vapply(inputs, hash, ""), expected)
  # latin1 and UTF-8 spellings of one text hash alike.
  expect_identical(hash(iconv("caf\u00e9", "UTF-8", "latin1")), hash("caf\u00e9"))
  bad <- "caf\xe9"; Encoding(bad) <- "bytes"
  expect_error(hash(bad), class = "rustipc_error_invalid_argument")
  expect_error(hash(NA_character_), class = "rustipc_error_invalid_argument")
  expect_error(hash(c("a", "b")), class = "rustipc_error_invalid_argument")
  expect_error(hash(NULL), class = "rustipc_error_invalid_argument")
  expect_visible(hash("a"))
})
