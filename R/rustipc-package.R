#' rustipc: coordinate R processes
#'
#' rustipc gives R processes on one machine (callr workers, `parallel`
#' children, Rscript jobs, Shiny and plumber servers) ways to coordinate:
#'
#' * [mutex()]: named shared and exclusive locks;
#' * [semaphore()]: a named counter that processes post and wait on;
#' * [msg_queue()]: a named queue of text messages with priorities, each
#'   delivered to exactly one reader;
#' * [lock()] / [unlock()]: locks on files, a drop-in for the filelock package;
#' * [uid()] / [hash()]: safe names for all of these;
#' * `with()` methods that hold a lock, a count or a message for one expression.
#'
#' The API follows the interprocess and filelock packages.  Unlike them, locks
#' are released when their holder dies (even by SIGKILL, or on Windows by
#' `TerminateProcess()`, which Task Manager's "End task", `taskkill /F` and
#' [tools::pskill()] use), every wait can be interrupted with Ctrl-C (Esc in
#' RGui), a killed process cannot wedge a queue, file locks leak no
#' descriptors and are not handed to forked children, `max_nchar` counts
#' characters, and every error is a classed condition
#' `c("rustipc_error_<kind>", "rustipc_error", "error", "condition")`.
#'
#' rustipc is tested on Linux; it also builds for macOS, FreeBSD and Windows
#' (see [ipc_backend()]).  Objects live as files in a directory that belongs
#' to the user (see below and [ipc_objects()]), readable and writable by
#' their owner only.
#'
#' @section Interrupts, and code that must not lose what it took:
#' Every rustipc wait ends on Ctrl-C (an R `interrupt` condition; Esc in
#' RGui, Ctrl-C in Rterm on Windows, where no signal is involved), and it
#' ends that way only having taken nothing: a wait that got its lock,
#' count or message returns it.  Inside rustipc no interrupt can separate a
#' taken lock from its release in `with()`, nor a received message or count
#' from `with()`'s `expr`.
#'
#' R itself acts on an interrupt at almost any point of R code, so in the
#' caller's own code an interrupt can still land between a call that
#' returned a message and the line that records it.  No library can close
#' that window; `suspendInterrupts()` can.  Inside `suspendInterrupts()`,
#' rustipc's waits stay interruptible (between slices of a wait they ask R,
#' through `allowInterrupts()`, whether an interrupt is pending) while the
#' rest of the block is not, so this pattern neither
#' loses nor duplicates a message, whatever the timing of interrupts:
#'
#' ```
#' suspendInterrupts(repeat {
#'   msg <- tryCatch(q$receive(), interrupt = function(e) NULL)
#'   if (!is.null(msg)) results <- c(results, msg)  # recorded before any interrupt
#'   if (done(results)) break
#' })
#' ```
#'
#' and for senders, `sent <- tryCatch(q$send(msg), interrupt = function(e)
#' FALSE)` in a loop until `sent`, inside `suspendInterrupts()`.  An
#' interrupt that arrives while such a block is not waiting is acted on when
#' the block ends.  `with()`'s `expr` runs with interrupts as the caller
#' had them, so an interrupt may end `expr` anywhere, like any R code.
#'
#' @section Where objects live, and who can open them:
#' Objects are files in a directory that belongs to the user:
#' `/dev/shm/rustipc-<uid>` on Linux, `%LOCALAPPDATA%\rustipc` (in the
#' user's profile, such as `C:\Users\<user>\AppData\Local\rustipc`) on
#' Windows, else `rustipc-<uid>` in the temporary directory; or the
#' directory named by the environment variable `RUSTIPC_DIR`.
#'
#' On Unix the directory must be owned by the user and have mode 0700,
#' objects mode 0600; anything else (a directory another user made first, a
#' symbolic link, a FIFO or a foreign file under a name) is refused with a
#' `rustipc_error_permission` or `rustipc_error_wrong_kind` error, never
#' used.  On Windows there are no file modes: the profile's access control
#' keeps the default directory to the user (and administrators), and a
#' `RUSTIPC_DIR` should be a directory just as private.  Objects are
#' therefore private to one user; unlike interprocess (whose objects other
#' users could read), rustipc offers no sharing between users.  Processes of
#' the same user are trusted.
#'
#' @keywords internal
#' @useDynLib rustipc, .registration = TRUE
"_PACKAGE"
