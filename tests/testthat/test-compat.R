# Drop-in compatibility with interprocess and filelock: the same classes and
# shapes, the same accepted inputs, and text that reaches Rust as UTF-8.

test_that("objects inherit the anchors' classes after rustipc's own", {
  m <- mutex()
  s <- semaphore()
  q <- msg_queue()
  on.exit({ m$remove(); s$remove(); q$remove() })
  path <- tempfile()
  on.exit(unlink(path), add = TRUE)
  l <- lock(path)
  on.exit(unlock(l), add = TRUE, after = FALSE)
  expect_identical(class(m), c("rustipc_mutex", "mutex", "interprocess"))
  expect_identical(class(s), c("rustipc_semaphore", "semaphore", "interprocess"))
  expect_identical(class(q), c("rustipc_msg_queue", "msg_queue", "interprocess"))
  expect_identical(class(l), c("rustipc_lock", "filelock_lock"))
  for (o in list(m, s, q)) expect_true(inherits(o, "interprocess"))
  expect_true(inherits(m, "mutex"))
  expect_true(inherits(s, "semaphore"))
  expect_true(inherits(q, "msg_queue"))
  expect_true(inherits(l, "filelock_lock"))
})

test_that("elements come in interprocess' order; $remove() is invisible", {
  m <- mutex()
  s <- semaphore()
  q <- msg_queue()
  expect_named(m, c("name", "lock", "unlock", "remove"))
  expect_named(s, c("name", "post", "wait", "remove"))
  expect_named(q, c("name", "send", "receive", "count", "remove", "max_count", "max_nchar"))
  for (o in list(m, s, q)) {
    expect_true(expect_invisible(o$remove()))
    expect_false(expect_invisible(o$remove()))
  }
})

test_that("print() shows what interprocess shows", {
  m <- mutex()
  s <- semaphore()
  q <- msg_queue()
  a <- mutex(I("a.b-c"))
  on.exit({ m$remove(); s$remove(); q$remove(); a$remove() })
  expect_identical(capture.output(print(m)), sprintf("<mutex> \"%s\"", m$name))
  expect_identical(capture.output(print(s)), sprintf("<semaphore> \"%s\"", s$name))
  expect_identical(capture.output(print(q)), sprintf("<msg_queue> \"%s\"", q$name))
  expect_identical(capture.output(print(a)), "<mutex> \"a.b-c\"")
  expect_identical(capture.output(m), capture.output(print(m)))  # auto-printing
  expect_invisible(print(m))
})

test_that("a lock has filelock's shape: list(handle, path)", {
  d <- tempfile()
  dir.create(d)
  on.exit(unlink(d, recursive = TRUE))
  path <- file.path(d, "x.lock")
  l <- lock(path)
  expect_type(l, "list")
  expect_length(l, 2L)
  expect_null(names(l))
  expect_type(l[[1]], "externalptr")
  expect_identical(l[[2]], normalizePath(path))
  unlock(l)
  # A non-ASCII path comes back as given, marked UTF-8.
  u <- file.path(d, "f\u00fcr-\u65e5\u672c.lock")
  l <- lock(u)
  expect_identical(l[[2]], enc2utf8(normalizePath(u)))
  expect_identical(Encoding(l[[2]]), "UTF-8")
  expect_true(file.exists(u))
  unlock(l)
})

test_that("locking a file twice in one process returns the identical object", {
  path <- tempfile()
  on.exit(unlink(path))
  l1 <- lock(path)
  l2 <- lock(path)
  expect_identical(l1, l2)
  expect_true(identical(l1, l2))
  other <- tempfile()
  l3 <- lock(other)
  expect_false(identical(l1, l3))
  unlock(l3)
  unlink(other)
  # Each object still holds the lock by itself, as in filelock.
  unlock(l1)
  expect_false(identical(l1, l2))
  expect_identical(capture.output(print(l1)), paste0("Unlocked lock on ", sQuote(l1[[2]])))
  expect_identical(capture.output(print(l2)), paste0("Lock on ", sQuote(l2[[2]])))
  expect_true(in_child(function(p) is.null(rustipc::lock(p, timeout = 0)), list(p = path)))
  unlock(l2)
  expect_identical(l1, l2)
  expect_false(in_child(function(p) is.null(rustipc::lock(p, timeout = 0)), list(p = path)))
  # Shared locks too.
  s1 <- lock(path, exclusive = FALSE)
  s2 <- lock(path, exclusive = FALSE)
  expect_identical(s1, s2)
  unlock(s1)
  unlock(s2)
})

test_that("a lock object from another process is an unlocked lock here", {
  path <- tempfile()
  on.exit(unlink(path))
  l <- in_child(function(p) rustipc::lock(p), list(p = path))
  expect_s3_class(l, "rustipc_lock")
  expect_identical(capture.output(print(l)), paste0("Unlocked lock on ", sQuote(l[[2]])))
  expect_true(unlock(l))
  expect_false(is.null(lock(path, timeout = 0)))
})

test_that("the lock's print() quotes with sQuote(), honouring useFancyQuotes and LANG", {
  path <- tempfile()
  on.exit(unlink(path))
  l <- lock(path, exclusive = FALSE)
  on.exit(unlock(l), add = TRUE, after = FALSE)
  old <- options(useFancyQuotes = FALSE)
  on.exit(options(old), add = TRUE, after = FALSE)
  expect_identical(capture.output(print(l)), paste0("Lock on '", l[[2]], "'"))
  options(useFancyQuotes = TRUE)
  expect_identical(capture.output(print(l)), paste0("Lock on ", sQuote(l[[2]], TRUE)))
  if (l10n_info()[["UTF-8"]]) {
    expect_identical(capture.output(print(l)), paste0("Lock on \u2018", l[[2]], "\u2019"))
  }
  out <- callr::r(function(p) {
    l <- rustipc::lock(p, exclusive = FALSE, timeout = 10000)
    list(print = capture.output(print(l)), utf8 = l10n_info()[["UTF-8"]])
  }, list(p = path), libpath = .libPaths(), timeout = 60, env = c(callr::rcmd_safe_env(), LANG = "C", LC_ALL = "C"))
  # (R on Windows may keep a UTF-8 session whatever LANG and LC_ALL say;
  # the quotes then are the fancy ones.)
  if (out$utf8) {
    expect_identical(out$print, paste0("Lock on \u2018", l[[2]], "\u2019"))
  } else {
    expect_identical(out$print, paste0("Lock on '", l[[2]], "'"))
  }
})

test_that("loading filelock after rustipc changes nothing rustipc's objects do", {
  skip_if_not_installed("filelock")
  path <- tempfile()
  on.exit(unlink(path))
  res <- in_child(function(path) {
    library(rustipc)
    l <- lock(path)
    expected <- paste0("Lock on ", sQuote(normalizePath(path)))
    before <- capture.output(print(l))
    library(filelock)  # registers print.filelock_lock, masks lock() and unlock()
    out <- list(expected = expected, before = before, after = capture.output(print(l)),
                unlock_is_filelocks = identical(unlock, filelock::unlock))
    # Even filelock's unlock(), given a rustipc lock, cannot corrupt it.
    filelock::unlock(l)
    out$after_filelock_unlock <- capture.output(print(l))
    out$held <- is.null(callr::r(function(p) rustipc::lock(p, timeout = 0), list(p = path)))
    out$unlocked <- rustipc::unlock(l)
    out$after_unlock <- capture.output(print(l))
    out$free <- !is.null(callr::r(function(p) rustipc::lock(p, timeout = 0), list(p = path)))
    # filelock's own locks are still filelock's business.
    fl <- filelock::lock(tempfile())
    out$filelock_print <- capture.output(print(fl))
    out$rustipc_refuses_filelock <- inherits(tryCatch(rustipc::unlock(fl), error = identity),
                                             "rustipc_error_invalid_argument")
    filelock::unlock(fl)
    out
  }, list(path = path))
  expect_identical(res$before, res$expected)
  expect_identical(res$after, res$before)
  expect_true(res$unlock_is_filelocks)
  expect_identical(res$after_filelock_unlock, res$before)
  expect_true(res$held)
  expect_true(res$unlocked)
  expect_match(res$after_unlock, "^Unlocked lock on ")
  expect_true(res$free)
  expect_match(res$filelock_print, "^Lock on ")
  expect_true(res$rustipc_refuses_filelock)
})

test_that("loading interprocess after rustipc changes nothing rustipc's objects do", {
  res <- in_child(function() {
    library(rustipc)
    m <- mutex()
    s <- semaphore()
    q <- msg_queue()
    on.exit({ m$remove(); s$remove(); q$remove() })
    run <- function() {
      q$send("msg")
      s$post()
      list(print = c(capture.output(print(m)), capture.output(print(s)), capture.output(print(q))),
           format = c(format(m), format(s), format(q)),
           chr = c(as.character(m), as.character(s), as.character(q)),
           with = list(with(m, "m"), with(s, "s"), with(q, paste("q", .))))
    }
    before <- run()
    # interprocess is optional (not a declared dependency), hence the variable.
    anchor_pkg <- "interprocess"
    if (requireNamespace(anchor_pkg, quietly = TRUE)) {
      loadNamespace(anchor_pkg)
      how <- "interprocess"
    } else {
      # Stand-ins for the methods interprocess registers.
      anchor <- function(...) stop("an interprocess method was called")
      for (cl in c("interprocess", "mutex", "semaphore", "msg_queue")) {
        for (gen in c("print", "format", "as.character")) registerS3method(gen, cl, anchor)
      }
      for (cl in c("mutex", "semaphore", "msg_queue")) registerS3method("with", cl, anchor)
      how <- "simulated"
    }
    list(before = before, after = run(), how = how)
  })
  expect_identical(res$after, res$before)
  expect_identical(res$before$with, list("m", "s", "q msg"))
  expect_match(res$before$print[1], "^<mutex> \"")
})

test_that("assert takes any case-insensitive prefix of create or exists", {
  for (ctor in list(mutex, semaphore, msg_queue)) {
    nm <- uid()
    o <- ctor(nm, assert = "c")
    expect_error(ctor(nm, assert = "CREATE"), class = "rustipc_error_already_exists")
    expect_error(ctor(nm, assert = "Cr"), class = "rustipc_error_already_exists")
    expect_identical(ctor(nm, assert = "EXISTS")$name, nm)
    expect_identical(ctor(nm, assert = "e")$name, nm)
    expect_identical(ctor(nm, assert = "exi")$name, nm)
    o$remove()
    expect_error(ctor(nm, assert = "E"), class = "rustipc_error_not_found")
    for (bad in list("", "x", "creates", "existing", NA_character_, c("c", "e"))) {
      expect_error(ctor(nm, assert = bad), "`assert`", class = "rustipc_error_invalid_argument")
    }
  }
})

test_that("hash() of a factor, Date, number or logical is hash(as.character(x))", {
  d <- as.Date("2024-02-29")
  for (x in list(factor("a b"), d, 1, 2.5, 1e15, 42L, TRUE, list("a"))) {
    expect_identical(hash(x), hash(as.character(x)))
  }
  expect_identical(hash(factor("a b")), hash("a b"))
  expect_identical(hash(d), hash("2024-02-29"))
})

test_that("TRUE and FALSE are taken as 1 and 0 where interprocess takes them", {
  s <- semaphore(value = TRUE)
  on.exit(s$remove())
  expect_true(s$wait(timeout_ms = FALSE))
  expect_false(s$wait(timeout_ms = TRUE))
  expect_true(s$post())
  expect_true(with(s, TRUE, FALSE, timeout_ms = TRUE))
  z <- semaphore(value = FALSE)
  expect_false(z$wait(timeout_ms = 0))
  z$remove()
  q <- msg_queue(max_count = TRUE, max_nchar = TRUE)
  on.exit(q$remove(), add = TRUE)
  expect_identical(q$max_count(), 1L)
  expect_identical(q$max_nchar(), 1L)
  expect_true(q$send("a", priority = TRUE, timeout_ms = TRUE))
  expect_false(q$send("b", timeout_ms = FALSE))
  expect_identical(q$receive(timeout_ms = TRUE), "a")
  expect_null(q$receive(timeout_ms = FALSE))
  q2 <- msg_queue(max_count = 5)
  on.exit(q2$remove(), add = TRUE)
  q2$send("low", priority = FALSE)
  q2$send("high", priority = TRUE)
  expect_identical(q2$receive(), "high")
  m <- mutex()
  on.exit(m$remove(), add = TRUE)
  expect_true(m$lock(timeout_ms = TRUE))
  expect_true(m$unlock())
  path <- tempfile()
  on.exit(unlink(path), add = TRUE)
  l <- lock(path, timeout = TRUE)
  expect_s3_class(l, "rustipc_lock")
  unlock(l)
  expect_error(msg_queue(max_count = FALSE), "`max_count`", class = "rustipc_error_invalid_argument")
})

test_that("I() names skip the name rules when they are valid file names", {
  for (nm in c("my.lock-1", "with space", "f\u00fcr \u65e5\u672c", "a..b", strrep("x", 255))) {
    for (ctor in list(mutex, semaphore, msg_queue)) {
      o <- ctor(I(nm), assert = "create")
      expect_identical(o$name, I(enc2utf8(nm)))
      # $name can be passed back as it is.
      o2 <- ctor(o$name, assert = "exists")
      expect_true(o2$remove())
      expect_false(o$remove())
    }
  }
  m <- mutex(I("shared.name"))
  on.exit(m$remove())
  expect_true(in_child(function() {
    m <- rustipc::mutex(I("shared.name"), assert = "exists")
    m$lock(timeout_ms = 0)
  }))
  # A name that is also a regular name is the same object either way.
  r <- mutex(I("Plain1"))
  expect_true(mutex("Plain1", assert = "exists")$remove())
  expect_false(r$remove())
})

test_that("I() names the OS cannot hold are classed errors saying why", {
  cases <- list(list(I(""), "empty"), list(I("."), "\"..\""), list(I(".."), "\"..\""),
                list(I(".hidden"), "start with"),
                list(I("a/b"), "\"/\""), list(I(strrep("\u00e9", 128)), "255 bytes.*256"))
  for (ctor in list(mutex, semaphore, msg_queue)) {
    for (case in cases) {
      err <- tryCatch(ctor(case[[1]]), error = identity)
      expect_s3_class(err, "rustipc_error_invalid_argument")
      expect_match(conditionMessage(err), "`name`", fixed = TRUE)
      expect_match(conditionMessage(err), case[[2]])
    }
  }
  expect_error(mutex(I("caf\xe9")), "`name`", class = "rustipc_error_invalid_argument")
  # Regular names keep their rules.
  expect_error(mutex("a.b"), class = "rustipc_error_invalid_argument")
})

test_that("Windows' file-name rules apply to I() names there (checked on every system)", {
  check <- function(x, windows) {
    r <- tryCatch(rustipc:::check_asis_name(I(x), "name", windows = windows), error = identity)
    if (inherits(r, "rustipc_error_invalid_argument")) conditionMessage(r) else "ok"
  }
  for (x in c("a\\b", "a:b", "a*b", "a?b", "a\"b", "a<b", "a>b", "a|b", "a\tb",
              "end.", "end ", "CON", "nul", "Com1", "LPT9", "aux.txt", "con .log")) {
    expect_match(check(x, TRUE), "on Windows", label = x)
    expect_identical(check(x, FALSE), "ok", label = x)
  }
  for (x in c("my.lock-1", "with space", "a..b", "console", "COM0", "nul1", "f\u00fcr")) {
    expect_identical(check(x, TRUE), "ok", label = x)
  }
  if (is_windows()) {
    expect_error(mutex(I("a:b")), "`name`", class = "rustipc_error_invalid_argument")
  }
})

test_that("Windows paths: UNC prefixes survive, ~\\ expands (checked on every system)", {
  squeeze <- rustipc:::squeeze_slashes
  expect_identical(squeeze("//server/share//dir/x", windows = TRUE), "//server/share/dir/x")
  expect_identical(squeeze("\\\\server\\share\\x", windows = TRUE), "//server/share/x")
  expect_identical(squeeze("C:/a//b", windows = TRUE), "C:/a/b")
  expect_identical(squeeze("//a//b", windows = FALSE), "/a/b")
  expand <- rustipc:::expand_tilde
  home <- path.expand("~")
  expect_identical(expand("~/x.lock", windows = FALSE), file.path(home, "x.lock"))
  expect_identical(expand("~\\x.lock", windows = TRUE), paste0(home, "\\x.lock"))
  expect_identical(expand("~\\x.lock", windows = FALSE), "./~\\x.lock")
  expect_identical(expand("~rustipcnouser/x", windows = TRUE), "./~rustipcnouser/x")
  expect_identical(expand("plain", windows = TRUE), "plain")
})

test_that("an I() name of 255 bytes works", {
  nm <- paste0(strrep("\u00e9", 127), "x")
  expect_identical(nchar(nm, "bytes"), 255L)
  m <- mutex(I(nm))
  expect_identical(m$name, I(nm))
  expect_true(m$remove())
})

test_that("text R cannot read as UTF-8 is a classed error, never sent to Rust", {
  q <- msg_queue()
  on.exit(q$remove())
  path <- tempfile()
  raw_text <- "caf\xe9"                       # unknown encoding, not valid UTF-8
  latin <- "caf\xe9"
  Encoding(latin) <- "latin1"
  bytes <- "caf\xe9"
  Encoding(bytes) <- "bytes"
  bad_utf8 <- "caf\xe9"
  Encoding(bad_utf8) <- "UTF-8"
  for (x in list(raw_text, bytes, bad_utf8)) {
    expect_error(q$send(x), "`msg`", class = "rustipc_error_invalid_argument")
    expect_error(lock(paste0(path, x)), "`path`", class = "rustipc_error_invalid_argument")
    expect_error(hash(x), "`str`", class = "rustipc_error_invalid_argument")
    expect_error(mutex(I(x)), "`name`", class = "rustipc_error_invalid_argument")
    expect_error(mutex(file = paste0(path, x)), "`file`", class = "rustipc_error_invalid_argument")
  }
  expect_identical(q$count(), 0L)
  err <- tryCatch(q$send(raw_text), error = identity)
  expect_match(conditionMessage(err), "encoding")
  expect_false(file.exists(paste0(path, "caf<e9>")))
  # Text whose encoding R knows is converted.
  expect_true(q$send(latin))
  got <- q$receive()
  expect_identical(got, "caf\u00e9")
  expect_identical(Encoding(got), "UTF-8")
  expect_identical(hash(latin), hash("caf\u00e9"))
  l <- lock(paste0(path, latin))
  on.exit({ unlock(l); unlink(paste0(path, "caf\u00e9")) }, add = TRUE)
  expect_identical(l[[2]], paste0(path, "caf\u00e9"))
  expect_true(file.exists(paste0(path, "caf\u00e9")))
  # Text marked "bytes" whose bytes are UTF-8 is taken as UTF-8.
  utf8_bytes <- "caf\u00e9"
  Encoding(utf8_bytes) <- "bytes"
  expect_true(q$send(utf8_bytes))
  expect_identical(q$receive(), "caf\u00e9")
})

test_that("in a C-locale session, marked text is converted and unmarked non-ASCII refused", {
  res <- callr::r(function() {
    q <- rustipc::msg_queue()
    on.exit(q$remove())
    q$send("caf\u00e9")
    got <- q$receive()
    unmarked <- rawToChar(as.raw(c(0x63, 0x61, 0x66, 0xc3, 0xa9)))
    err <- tryCatch(q$send(unmarked), error = identity)
    list(utf8 = l10n_info()[["UTF-8"]], got = got, enc = Encoding(got),
         err = class(err), count = q$count())
  }, libpath = .libPaths(), timeout = 60, env = c(callr::rcmd_safe_env(), LANG = "C", LC_ALL = "C"))
  if (res$utf8) skip("the child session is UTF-8 whatever LANG and LC_ALL say (R on Windows)")
  expect_false(res$utf8)
  expect_identical(res$got, "caf\u00e9")
  expect_identical(res$enc, "UTF-8")
  expect_true("rustipc_error_invalid_argument" %in% res$err)
  expect_identical(res$count, 0L)
})

test_that("a ~ path with non-ASCII text is expanded in any session encoding", {
  skip_on_cran()  # writes in the home directory
  name <- sprintf(".rustipc-caf\u00e9-%s.lock", uid())
  on.exit(unlink(file.path(path.expand("~"), name)))
  for (env in list(character(), c(LANG = "C", LC_ALL = "C"))) {
    got <- callr::r(function(name) {
      l <- rustipc::lock(paste0("~/", name))
      on.exit(rustipc::unlock(l))
      l[[2]]
    }, list(name = name), libpath = .libPaths(), timeout = 60,
    env = c(callr::rcmd_safe_env(), env))
    expect_identical(got, enc2utf8(lock_path(file.path(path.expand("~"), name))))
  }
  expect_true(file.exists(file.path(path.expand("~"), name)))
  # A user that does not exist: a file "~nouser..." in the working directory.
  d <- tempfile()
  dir.create(d)
  on.exit(unlink(d, recursive = TRUE), add = TRUE)
  got <- callr::r(function() {
    l <- rustipc::lock("~rustipcnouser.lock")
    on.exit(rustipc::unlock(l))
    l[[2]]
  }, libpath = .libPaths(), timeout = 60, wd = d)
  # (On Windows, made absolute as normalizePath() does it, which drops the ".".)
  want <- if (is_windows()) {
    normalizePath(file.path(d, "~rustipcnouser.lock"), mustWork = FALSE)
  } else {
    file.path(normalizePath(d), ".", "~rustipcnouser.lock")
  }
  expect_identical(got, want)
  expect_true(file.exists(file.path(d, "~rustipcnouser.lock")))
})

test_that("errors show a bad TRUE/FALSE count as given", {
  err <- tryCatch(msg_queue(max_count = FALSE), error = identity)
  expect_match(conditionMessage(err), "not FALSE", fixed = TRUE)
})

test_that("an error the native side reports keeps its kind (not_found included)", {
  for (kind in c("not_found", "already_exists", "wrong_kind", "os_error")) {
    err <- tryCatch(rustipc:::rs_fail(list(kind = kind, message = "gone", errno = 2L)),
                    error = identity)
    expect_s3_class(err, c(paste0("rustipc_error_", kind), "rustipc_error", "error", "condition"),
                    exact = TRUE)
    expect_identical(conditionMessage(err), "gone")
    expect_identical(err$errno, 2L)
  }
})
