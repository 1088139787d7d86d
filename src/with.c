// with() for mutexes, semaphores and queues, written in C because it must
// run R code (the user's expression) between taking and releasing, and an
// R error or interrupt must never longjmp through Rust frames.
//
// What makes it exact under interrupt storms: an interrupt is acted on only
// while R evaluates R code.  Here no R code runs between the native call
// that takes the lock (or count, or message) and the moment its release is
// registered with R (R_ExecWithCleanup) or its return on interrupt is
// armed (R_tryCatch), so nothing taken can be left held or dropped.  The
// native waits themselves end on an interrupt only with nothing taken.
#include <R.h>
#include <Rinternals.h>
#include <R_ext/GraphicsEngine.h> /* includes GraphicsDevice.h: R_interrupts_suspended */

// extendr's entry points (Rust): each returns its result or an error list.
SEXP wrap__rs_mutex_lock(SEXP h, SEXP shared, SEXP timeout_ms);
SEXP wrap__rs_mutex_unlock(SEXP h);
SEXP wrap__rs_sem_wait(SEXP h, SEXP timeout_ms);
SEXP wrap__rs_sem_post(SEXP h);

static int is_true(SEXP x) {
    return TYPEOF(x) == LGLSXP && XLENGTH(x) == 1 && LOGICAL(x)[0] == TRUE;
}

struct body {
    SEXP expr, env;
    Rboolean outer_suspended; // the caller's interrupt state, for `expr`
    int done;                 // `expr` returned normally
};

// Evaluate `expr` with the caller's interrupt state; suspend interrupts
// again the moment it returns, so none is acted on (and caught below as
// if `expr` had been interrupted) between its end and our return.
static SEXP eval_body(void *data) {
    struct body *b = data;
    R_interrupts_suspended = b->outer_suspended;
    SEXP value = Rf_eval(b->expr, b->env);
    R_interrupts_suspended = TRUE;
    b->done = 1;
    return value;
}

static void unlock_mutex(void *h) {
    wrap__rs_mutex_unlock((SEXP) h);
}

// .External(rs_with_mutex, h, shared, timeout_ms, quote(withVisible(expr)), env):
// FALSE (timed out), an error list, or withVisible()'s list.  The lock is
// released however `expr` ends.
SEXP rs_with_mutex(SEXP args) {
    args = CDR(args);
    SEXP h = CAR(args), shared = CADR(args), timeout = CADDR(args);
    SEXP expr = CADDDR(args), env = CAD4R(args);
    SEXP got = wrap__rs_mutex_lock(h, shared, timeout);
    if (!is_true(got)) return got;
    struct body b = {expr, env, R_interrupts_suspended, 0};
    return R_ExecWithCleanup(eval_body, &b, unlock_mutex, h);
}

struct on_interrupt {
    SEXP h;
    struct body *b;
};

// An interrupt while `expr` ran: give the count back (it was taken for an
// expression that did not complete), and hand the condition to R, which
// signals it again.
static SEXP sem_interrupted(SEXP cond, void *data) {
    struct on_interrupt *oi = data;
    if (!oi->b->done) wrap__rs_sem_post(oi->h);
    return cond;
}

// .External(rs_with_semaphore, h, timeout_ms, quote(withVisible(expr)), env):
// FALSE, an error list, withVisible()'s list, or the interrupt condition
// that ended `expr` (after the count was posted back).
SEXP rs_with_semaphore(SEXP args) {
    args = CDR(args);
    SEXP h = CAR(args), timeout = CADR(args), expr = CADDR(args), env = CADDDR(args);
    SEXP got = wrap__rs_sem_wait(h, timeout);
    if (!is_true(got)) return got;
    Rboolean outer = R_interrupts_suspended;
    // No interrupt is acted on until `expr` starts (eval_body), so none can
    // land in R_tryCatch's own R code before its handler is in place.
    R_interrupts_suspended = TRUE;
    struct body b = {expr, env, outer, 0};
    struct on_interrupt oi = {h, &b};
    SEXP conds = PROTECT(Rf_mkString("interrupt"));
    SEXP r = R_tryCatch(eval_body, &b, conds, sem_interrupted, &oi, NULL, NULL);
    UNPROTECT(1);
    R_interrupts_suspended = outer;
    return r;
}
