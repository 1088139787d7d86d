// The boundary between R and the Rust core.
//
// Every `.Call` entry point is the extendr wrapper `wrap__rs_*` (Rust), or,
// for the hot calls, a plain C-ABI Rust function `rsx_*` registered under
// the same name, called through a shim here that runs it with R's
// interrupts suspended.
// Why: R acts on a pending interrupt not only in R code but also at the end
// of any garbage collection (R_gc_internal ends with
// END_SUSPEND_INTERRUPTS, which calls onintr()), so an allocation made by
// Rust code (extendr's result and bookkeeping objects) could longjmp
// through Rust frames, skipping their destructors.  Suspended, R only
// records the interrupt; the Rust waits read R_interrupts_pending
// themselves (src/rust/src/wait.rs), so they stay interruptible, and R acts
// on a pending interrupt once the shim has returned.
//
// The table below is the one R registers (extendr's own registration
// routine is not used).  It must list every `#[extendr]` function; R CMD
// check and the tests fail on a `.Call` of a name that is not here.
#include <R.h>
#include <Rinternals.h>
#include <R_ext/Rdynload.h>
#include <R_ext/GraphicsEngine.h> /* includes GraphicsDevice.h: R_interrupts_suspended */
#ifdef _WIN32
#include <Rembedded.h> /* UserBreak */
#endif
#include "rustipc.h"

#define SUSPENDED(call)                                  \
    Rboolean was_suspended__ = R_interrupts_suspended;   \
    R_interrupts_suspended = TRUE;                       \
    SEXP result__ = call;                                \
    R_interrupts_suspended = was_suspended__;            \
    return result__;

#define SHIM0(f) SEXP f(void); static SEXP shim_##f(void) { SUSPENDED(f()) }
#define SHIM1(f) SEXP f(SEXP); static SEXP shim_##f(SEXP a) { SUSPENDED(f(a)) }
#define SHIM2(f) SEXP f(SEXP, SEXP); static SEXP shim_##f(SEXP a, SEXP b) { SUSPENDED(f(a, b)) }
#define SHIM3(f) SEXP f(SEXP, SEXP, SEXP); \
    static SEXP shim_##f(SEXP a, SEXP b, SEXP c) { SUSPENDED(f(a, b, c)) }
#define SHIM4(f) SEXP f(SEXP, SEXP, SEXP, SEXP); \
    static SEXP shim_##f(SEXP a, SEXP b, SEXP c, SEXP d) { SUSPENDED(f(a, b, c, d)) }
#define SHIM5(f) SEXP f(SEXP, SEXP, SEXP, SEXP, SEXP); \
    static SEXP shim_##f(SEXP a, SEXP b, SEXP c, SEXP d, SEXP e) { SUSPENDED(f(a, b, c, d, e)) }

#define ENTRY_POINTS(X)                 \
    X(0, wrap__rs_uid)                  \
    X(1, wrap__rs_hash)                 \
    X(0, wrap__rs_noop)                 \
    X(0, wrap__rs_backend)              \
    X(3, wrap__rs_mutex_open)           \
    X(1, wrap__rs_mutex_remove)         \
    X(4, wrap__rs_sem_open)             \
    X(1, wrap__rs_sem_remove)           \
    X(5, wrap__rs_mq_open)              \
    X(2, wrap__rs_mq_take)              \
    X(3, wrap__rs_mq_settle)            \
    X(1, wrap__rs_mq_info)              \
    X(1, wrap__rs_mq_remove)            \
    X(1, wrap__rs_lock_info)            \
    X(0, wrap__rs_objects)              \
    X(2, wrap__rs_remove_name)          \
    X(0, wrap__rs_cleanup_orphans)      \
    X(0, wrap__rs_object_dir)           \
    X(1, wrap__rs_stamps)

// The hot calls: plain C-ABI Rust functions on raw SEXPs (rsx_*, see
// src/rust/src/fast.rs), registered under the names R already uses.  The R
// closures pass their arguments unchecked; an error list coming back (a
// failure, or the kind "slow_path" for an argument the Rust code does not
// take as it is) goes to rs_hot_fail() in R (R/hot.R), which raises the
// classed condition or checks and converts the arguments and calls again.
// That R code runs here, after the Rust function has returned: an R error
// it raises unwinds through this C frame only.
#define FAST_POINTS(X)                                      \
    X(3, wrap__rs_mutex_lock, rsx_mutex_lock)               \
    X(2, wrap__rs_mutex_unlock, rsx_mutex_unlock)           \
    X(1, wrap__rs_sem_post, rsx_sem_post)                   \
    X(2, wrap__rs_sem_wait, rsx_sem_wait)                   \
    X(4, wrap__rs_mq_send, rsx_mq_send)                     \
    X(2, wrap__rs_mq_receive, rsx_mq_receive)

// lock() and unlock(): plain C-ABI too (src/rust/src/filelock.rs), whose R
// functions check the arguments first (lock()'s result is a list, so an
// error list is told apart in R).
#define LEAN_POINTS(X)                                      \
    X(3, wrap__rs_lock, rsx_lock)                           \
    X(1, wrap__rs_unlock, rsx_unlock)

// The same without the fallback to R, for the slow path in R/hot.R, whose
// arguments are checked (so no call there can come back to R/hot.R).
#define CHECKED_POINTS(X)                                   \
    X(3, rs_mutex_lock_checked, rsx_mutex_lock)             \
    X(2, rs_mutex_unlock_checked, rsx_mutex_unlock)         \
    X(2, rs_sem_wait_checked, rsx_sem_wait)                 \
    X(4, rs_mq_send_checked, rsx_mq_send_checked)           \
    X(2, rs_mq_receive_checked, rsx_mq_receive)

#define DEFINE_SHIM(n, f) SHIM##n(f)
ENTRY_POINTS(DEFINE_SHIM)
#define DEFINE_FAST_SHIM(n, name, f) SHIM##n(f)
FAST_POINTS(DEFINE_FAST_SHIM)
SHIM4(rsx_mq_send_checked)
LEAN_POINTS(DEFINE_FAST_SHIM)

// rs_hot_fail(result, "<name>", list(<arguments>)) in rustipc's namespace.
// The arguments go in a list so that none is evaluated again (a symbol or
// a call passed as an argument stays a value).
static SEXP hot_fail(SEXP result, const char *name, int n, SEXP *args) {
    static SEXP ns = NULL, fun = NULL;
    PROTECT(result);
    if (ns == NULL) {
        SEXP s = PROTECT(Rf_mkString("rustipc"));
        ns = R_FindNamespace(s);
        R_PreserveObject(ns);
        UNPROTECT(1);
        fun = Rf_install("rs_hot_fail"); // symbols are never collected
    }
    SEXP list = PROTECT(Rf_allocVector(VECSXP, n));
    for (int i = 0; i < n; i++) SET_VECTOR_ELT(list, i, args[i]);
    SEXP what = PROTECT(Rf_mkString(name));
    SEXP call = PROTECT(Rf_lang4(fun, result, what, list));
    SEXP value = Rf_eval(call, ns);
    UNPROTECT(4);
    return value;
}

#define HOT(name, n, call, ...)                                  \
    SEXP r = call;                                               \
    if (TYPEOF(r) != VECSXP) return r;                           \
    SEXP args[n] = {__VA_ARGS__};                                \
    return hot_fail(r, #name, n, args);

static SEXP hot_rsx_mutex_lock(SEXP h, SEXP shared, SEXP t) {
    HOT(mutex_lock, 3, shim_rsx_mutex_lock(h, shared, t), h, shared, t)
}
static SEXP hot_rsx_mutex_unlock(SEXP h, SEXP warn) {
    HOT(mutex_unlock, 2, shim_rsx_mutex_unlock(h, warn), h, warn)
}
static SEXP hot_rsx_sem_post(SEXP h) { HOT(sem_post, 1, shim_rsx_sem_post(h), h) }
static SEXP hot_rsx_sem_wait(SEXP h, SEXP t) { HOT(sem_wait, 2, shim_rsx_sem_wait(h, t), h, t) }
static SEXP hot_rsx_mq_send(SEXP h, SEXP msg, SEXP t, SEXP prio) {
    HOT(mq_send, 4, shim_rsx_mq_send(h, msg, t, prio), h, msg, t, prio)
}
static SEXP hot_rsx_mq_receive(SEXP h, SEXP t) { HOT(mq_receive, 2, shim_rsx_mq_receive(h, t), h, t) }

// For with.c: the same calls, suspended, results as the Rust code gives them.
SEXP rs_call_mutex_lock(SEXP h, SEXP shared, SEXP t) { return shim_rsx_mutex_lock(h, shared, t); }
static SEXP true_value; // TRUE, made once at load
SEXP rs_call_mutex_unlock(SEXP h) { return shim_rsx_mutex_unlock(h, true_value); }
SEXP rs_call_sem_wait(SEXP h, SEXP t) { return shim_rsx_sem_wait(h, t); }
SEXP rs_call_mq_take(SEXP h, SEXP t) { return shim_wrap__rs_mq_take(h, t); }
SEXP rs_call_mq_settle(SEXP h, SEXP token, SEXP put_back) {
    return shim_wrap__rs_mq_settle(h, token, put_back);
}

#define CALL_ENTRY(n, f) {#f, (DL_FUNC) &shim_##f, n},
#define CALL_ENTRY_AS(n, name, f) {#name, (DL_FUNC) &shim_##f, n},
#define FAST_ENTRY(n, name, f) {#name, (DL_FUNC) &hot_##f, n},
static const R_CallMethodDef call_methods[] = {
    ENTRY_POINTS(CALL_ENTRY)
    FAST_POINTS(FAST_ENTRY)
    CHECKED_POINTS(CALL_ENTRY_AS)
    LEAN_POINTS(CALL_ENTRY_AS)
    {NULL, NULL, 0}
};

static const R_ExternalMethodDef external_methods[] = {
    {"rs_with_mutex", (DL_FUNC) &rs_with_mutex, 5},
    {"rs_with_semaphore", (DL_FUNC) &rs_with_semaphore, 4},
    {"rs_with_msg_queue", (DL_FUNC) &rs_with_msg_queue, 4},
    {"rs_with_stats", (DL_FUNC) &rs_with_stats, 0},
    {NULL, NULL, 0}
};

// For the Rust waits (src/rust/src/error.rs): whether the user asked R to
// interrupt, consuming the request.  R_interrupts_pending is where R's
// SIGINT handler (and front ends such as RStudio) record it, also while
// interrupts are suspended; on Windows, Ctrl-C in Rterm sets UserBreak
// instead (from the console's handler thread), which R acts on when it next
// processes events.  (RGui's Esc sets it only while RGui processes window
// messages, which it does not during a .Call: a wait there does not see it.)
// volatile: set from a signal handler or a console thread.
int rustipc_take_interrupt(void) {
#ifdef _WIN32
    if (*(volatile int *) &UserBreak) {
        UserBreak = 0;
        return 1;
    }
#endif
    if (*(volatile int *) &R_interrupts_pending) {
        R_interrupts_pending = 0;
        return 1;
    }
    return 0;
}

void rustipc_init(void); // Rust: installs the interrupt check

void R_init_rustipc(DllInfo *dll) {
    rustipc_init();
    true_value = Rf_ScalarLogical(TRUE);
    R_PreserveObject(true_value);
    R_registerRoutines(dll, NULL, call_methods, NULL, external_methods);
    R_useDynamicSymbols(dll, FALSE);
}
