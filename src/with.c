// with() for mutexes, semaphores and queues, in C because it runs R code
// (the user's expression) between taking and releasing, and an R error or
// interrupt must never longjmp through Rust frames.
//
// Why this is exact under interrupt storms: R acts on an interrupt only
// while it runs R code or allocates (see entrypoint.c), and here nothing of
// the kind happens between the native call that takes the lock, count or
// message (which itself ends on an interrupt only having taken nothing)
// and the moment `expr` starts, its release already registered with R
// (R_ExecWithCleanup) where there is one.
#include <R.h>
#include <Rinternals.h>
#include "rustipc.h"

// Whether a lock or wait call took what it waited for: TRUE, or NULL (taken,
// the wait had no deadline; see src/rust/src/fast.rs).
static int taken(SEXP x) {
    return x == R_NilValue || (TYPEOF(x) == LGLSXP && XLENGTH(x) == 1 && LOGICAL(x)[0] == TRUE);
}

struct body {
    SEXP expr, env;
};

// Counts and messages handed to an `expr` by with() in this process (for
// the tests: nothing taken is ever left without reaching `expr`).
static double handed = 0;

static SEXP eval_body(void *data) {
    struct body *b = data;
    return Rf_eval(b->expr, b->env);
}

static void unlock_mutex(void *h) {
    rs_call_mutex_unlock((SEXP) h);
}

// .External(rs_with_mutex, h, shared, timeout_ms, quote(withVisible(expr)), env):
// FALSE (timed out), an error list, or withVisible()'s list.  The lock is
// released however `expr` ends.
SEXP rs_with_mutex(SEXP args) {
    args = CDR(args);
    SEXP h = CAR(args), shared = CADR(args), timeout = CADDR(args);
    struct body b = {CADDDR(args), CAD4R(args)};
    SEXP got = rs_call_mutex_lock(h, shared, timeout);
    if (!taken(got)) return got;
    return R_ExecWithCleanup(eval_body, &b, unlock_mutex, h);
}

// .External(rs_with_semaphore, h, timeout_ms, quote(withVisible(expr)), env):
// FALSE, an error list, or withVisible()'s list.  The count taken is
// `expr`'s (as in interprocess, it is not posted back).
SEXP rs_with_semaphore(SEXP args) {
    args = CDR(args);
    SEXP h = CAR(args), timeout = CADR(args);
    struct body b = {CADDR(args), CADDDR(args)};
    SEXP got = rs_call_sem_wait(h, timeout);
    if (!taken(got)) return got;
    handed += 1;
    return eval_body(&b);
}

struct taken {
    SEXP h, token, msg, expr, env;
    int started; // `expr` has started: the message is consumed, not put back
};

// The message is bound to `.` here, under the cleanup: if that fails (a
// locked binding or environment), the message goes back to the queue.
static SEXP eval_taken(void *data) {
    struct taken *t = data;
    Rf_defineVar(Rf_install("."), t->msg, t->env);
    t->started = 1;
    return Rf_eval(t->expr, t->env);
}

static void settle(void *data) {
    struct taken *t = data;
    rs_call_mq_settle(t->h, t->token, Rf_ScalarLogical(t->started ? FALSE : TRUE));
}

// .External(rs_with_msg_queue, h, timeout_ms, quote(withVisible(expr)), env):
// NULL (timed out), an error list, or withVisible()'s list, with the
// message bound to `.` in `env`.  The message is taken (it stays in its
// slot, marked with this process) and consumed however `expr` ends (put
// back if it could not be bound to `.`); if this process dies before, the
// queue puts it back.
SEXP rs_with_msg_queue(SEXP args) {
    args = CDR(args);
    SEXP h = CAR(args), timeout = CADR(args);
    SEXP got = PROTECT(rs_call_mq_take(h, timeout));
    if (TYPEOF(got) != VECSXP || XLENGTH(got) != 2 || TYPEOF(VECTOR_ELT(got, 0)) != STRSXP) {
        UNPROTECT(1);
        return got;
    }
    struct taken t = {h, VECTOR_ELT(got, 1), VECTOR_ELT(got, 0), CADDR(args), CADDDR(args), 0};
    handed += 1;
    SEXP r = R_ExecWithCleanup(eval_taken, &t, settle, &t);
    UNPROTECT(1);
    return r;
}

// .External(rs_with_stats): counts and messages handed to `expr` so far.
SEXP rs_with_stats(SEXP args) {
    (void) args;
    return Rf_ScalarReal(handed);
}
