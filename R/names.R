#' Names for rustipc objects
#'
#' Mutexes, semaphores and message queues are found by name.  `uid()` makes a
#' name that no other call makes, on this machine, ever; `hash()` turns any
#' string (a file path, a URL, a job id) into a valid name.
#'
#' Both return 11 characters written in base 62 with the digits `a-z`, `A-Z`,
#' `0-9` (in that order), most significant digit first.
#'
#' **`hash(str)`** is the 64-bit XXH3 hash (seed 0) of the UTF-8 bytes of
#' `str`.  Because \eqn{2^{64} < 22 \cdot 62^{10}}, it begins with a lowercase
#' letter `a`-`v`.  It is the same on every platform and every build (unlike
#' interprocess' `hash()`, which uses the C++ library's string hash).
#'
#' **`uid()`** writes the number \eqn{26 \cdot 62^{10} + v}, so it begins with
#' an uppercase letter `A`-`R`, where
#' \eqn{v = slot \cdot 2^{22} + block \cdot 2^{10} + i}:
#' * `slot` counts 10 ms intervals of the system clock since 2020-01-01 UTC
#'   (room until the year 3159);
#' * `block` (0 to 4095) is claimed by the process: it locks (`flock`, or
#'   `LockFileEx()` on Windows) the file `.uid-<block>` in the user's
#'   private object directory (see [ipc_objects()]); the kernel gives the
#'   lock to one open file at a time and frees it when the process has
#'   exited, however it ended;
#' * `i` counts this process' uids within the slot (up to 1,024).
#'
#' *Why uids never repeat.*  A process uses only slots later than the one in
#' which it claimed its block, and never a slot later than the present (when
#' it has used all 1,024 indices of a slot it waits for the next one).  Two
#' live processes never hold the same block.  A process that held the block
#' before (even one with the same process id) had exited, so every uid it
#' made is from a slot no later than the one in which the block was claimed
#' again.  A child made by fork notices its new process id and claims its own
#' block, so `parallel::mclapply()` children repeat neither each other nor the
#' parent (Windows has no fork).  The argument needs the system clock not
#' to be set back.  The lock is on a file, so it holds across PID and
#' network namespaces (such as containers) that share the object directory,
#' and no other user can take or exhaust the blocks, since only the owner
#' can create files there.
#'
#' *Speed.*  Up to about 100,000 uids per second per process, from the first
#' call on (the first call waits at most 10 ms); interprocess' `uid()` sleeps
#' to stay under 100 per second.
#'
#' @param str A string (a single non-`NA` character value).  Anything else
#'   that [as.character()] turns into one string (a number, a factor, a
#'   `Date`) is hashed as that string, as in interprocess: `hash(1)` equals
#'   `hash("1")`.  Text in another encoding is hashed as UTF-8.
#' @return A string of 11 characters.
#' @family rustipc
#' @export
#' @examples
#' uid()
#' hash("192.168.1.123:8011")
#' hash(1) == hash("1")
uid <- function() {
  res <- .Call(rs_uid)
  if (is.list(res)) rs_fail(res)
  res
}

#' @rdname uid
#' @export
hash <- function(str) .Call(rs_hash, str)

# hash()'s slow path (R/hot.R): the native side takes a plain string that
# is ASCII or marked UTF-8; anything else comes here.  As interprocess:
# anything as.character() makes one string of (a number, a factor, a Date,
# ...) is hashed as that string.
hash_slow <- function(str) {
  if (!is.character(str) && !is.null(str) && !is.function(str) && !is.environment(str)) {
    str <- tryCatch(as.character(str), error = function(e) str)
  }
  .Call(rs_hash_checked, as.vector(check_string(str, "str")))
}

#' The backend rustipc was built with
#'
#' rustipc's engine sits on a platform layer with one backend per kind of
#' system.  `"linux"` uses Linux's own facilities (futexes, robust
#' process-shared mutexes, open-file-description locks waited on in the
#' kernel, on R's own thread); `"portable"` uses only facilities macOS also has (a lock
#' word holding its owner's token, file-lock waits by polling) and is the
#' backend on macOS; `"freebsd"` is FreeBSD's; `"windows"` is Windows'
#' (its own synchronisation objects and `LockFileEx()` file locks, which
#' Windows releases when their process ends).  On Linux, installing with
#' the environment variable `RUSTIPC_BACKEND=portable` builds the portable
#' backend; Windows has only its own.  Objects made by one backend are not
#' opened by another.  Please give this in bug reports.
#'
#' @return `"linux"`, `"portable"`, `"freebsd"` or `"windows"`.
#' @family rustipc
#' @export
#' @examples
#' ipc_backend()
ipc_backend <- function() .Call(rs_backend)
