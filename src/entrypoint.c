// The boundary between R and the Rust glue (src/rust/src), the one place
// where R calls into Rust and Rust calls back into R.
//
// Only R's API is used here and in the Rust code (tools/check-api.R checks
// the built library against tools:::funAPI() in `make test`).
//
// The rules this file enforces:
//
// * No R error or interrupt ever longjmps through a Rust frame.  R can
//   longjmp out of any call that allocates: an allocation error, or a
//   pending interrupt that R acts on when a garbage collection ends.  So
//   Rust never calls an allocating R function itself: it calls the
//   rustipc_* helpers below, which run the allocation under
//   R_UnwindProtect().  If R jumps there, the helper catches the jump (a C
//   longjmp back into the helper, crossing only R's own C frames), returns
//   NULL, and every later helper of the same call returns NULL at once;
//   the Rust code sees that (`Jumped`), undoes what it took and returns, and
//   the shim below, with no Rust frame left, continues the jump with
//   R_ContinueUnwind().  So an interrupt or an out-of-memory error reaches
//   R exactly as R raised it, after Rust has cleaned up.
// * What Rust allocates is protected by the call's slots in one preserved
//   list (`keep`), released when the call returns; Rust never touches R's
//   protection stack.
// * Waits ask whether the user wants to interrupt through
//   rustipc_interrupted(): R_CheckUserInterrupt() inside R_ToplevelExec(),
//   which consumes a pending interrupt (Ctrl-C, SIGINT, a front end's
//   request, Rterm's Ctrl-C and RGui's Esc on Windows, which
//   R_ProcessEvents() turns into one) without a longjmp past this frame.
//   The wait then returns having taken nothing, and R re-signals the
//   interrupt (R/errors.R).
// * Panics never cross into R: every Rust entry point catches them and
//   returns an error list of kind "internal".
//
// Every `.Call` entry point is a plain C-ABI Rust function `rsx_*`,
// registered under the name `rs_*` that the R code uses, through a shim
// made by the X-macros below.  ENTRY_POINTS is the one table of them;
// tools/check-boundary.sh (run by `make test`) checks it against the Rust
// functions and the R code.
#include <setjmp.h>
#include <R.h>
#include <Rinternals.h>
#include <R_ext/Rdynload.h>
#include "rustipc.h"

// ---- jump-safe calls into R, for Rust ------------------------------------

// Slots protecting what Rust allocated during the current call(s): nested
// calls (R code run from a wait's interrupt check that calls rustipc again)
// take the slots above their caller's.
#define KEEP_SLOTS 64
static SEXP keep = NULL;
static int keep_top = 0;
// Set when R jumped out of an allocation made for Rust: the jump waits in
// `cont` until the Rust code has returned.
static int jump_pending = 0;
static SEXP cont = NULL;

static SEXP kept(SEXP x) {
    if (keep_top < KEEP_SLOTS) SET_VECTOR_ELT(keep, keep_top++, x);
    else x = NULL; // a bug in the Rust code (too many objects): reported there
    return x;
}

static void jump_back(void *data, Rboolean jump) {
    if (jump) longjmp(*(jmp_buf *) data, 1);
}

// Runs fun(data) under R_UnwindProtect; NULL when R jumped (or had jumped
// earlier in this call).
static SEXP protected_call(SEXP (*fun)(void *), void *data) {
    if (jump_pending) return NULL;
    jmp_buf env;
    if (setjmp(env)) {
        jump_pending = 1;
        return NULL;
    }
    SEXP x = R_UnwindProtect(fun, data, jump_back, &env, cont);
    // R_UnwindProtect() keeps the result in the token (SETCAR): drop it, or
    // the preserved token would keep the last object alive (a lock or
    // handle that garbage collection must release).
    SETCAR(cont, R_NilValue);
    return x;
}

struct alloc_args { SEXPTYPE type; R_xlen_t n; };
static SEXP do_alloc(void *d) {
    struct alloc_args *a = d;
    return Rf_allocVector(a->type, a->n);
}
// A new vector, kept until the call returns; NULL: stop (see above).
SEXP rustipc_alloc(unsigned type, R_xlen_t n) {
    struct alloc_args a = {(SEXPTYPE) type, n};
    SEXP x = protected_call(do_alloc, &a);
    return x == NULL ? NULL : kept(x);
}

struct mkchar_args { const char *s; int n; };
static SEXP do_mkchar(void *d) {
    struct mkchar_args *a = d;
    return Rf_mkCharLenCE(a->s, a->n, CE_UTF8);
}
// A CHARSXP of n bytes of UTF-8, not kept: store it (SET_STRING_ELT) in a
// kept vector before anything else allocates.  NULL: stop.
SEXP rustipc_mkchar(const char *s, int n) {
    struct mkchar_args a = {s, n};
    return protected_call(do_mkchar, &a);
}

// Symbols used as external pointer tags, made once at load (symbols are
// never collected).
static SEXP tags[3];
SEXP rustipc_tag(int which) {
    return (which >= 0 && which < 3) ? tags[which] : R_NilValue;
}

struct extptr_args { void *p; SEXP tag, prot; R_CFinalizer_t fin; };
static SEXP do_extptr(void *d) {
    struct extptr_args *a = d;
    SEXP x = PROTECT(R_MakeExternalPtr(a->p, a->tag, a->prot));
    if (a->fin != NULL) R_RegisterCFinalizerEx(x, a->fin, TRUE);
    UNPROTECT(1);
    return x;
}
// An external pointer with address p, tag symbol number `tag`
// (rustipc_tag()), protected value prot, and finalizer fin (also run at
// exit; NULL: none).  Kept.  NULL: stop; then fin has not been registered,
// and the caller still owns p.
SEXP rustipc_extptr(void *p, int tag, SEXP prot, R_CFinalizer_t fin) {
    struct extptr_args a = {p, rustipc_tag(tag), prot, fin};
    SEXP x = protected_call(do_extptr, &a);
    return x == NULL ? NULL : kept(x);
}

// lock()'s object in one protected call (lock() is a hot path): list(outer,
// path), where `outer` is an external pointer tagged rustipc_lock with
// address `addr` and, as its protected value, the handle: an external
// pointer tagged rustipc_lock_handle to `own`, finalized by `fin`.  NULL:
// stop; then `fin` may or may not have been registered: *registered says.
struct lock_args { void *own, *addr; const char *path; int n; R_CFinalizer_t fin; int *registered; };
static SEXP do_lock_object(void *d) {
    struct lock_args *a = d;
    SEXP own = PROTECT(R_MakeExternalPtr(a->own, tags[2], R_NilValue));
    R_RegisterCFinalizerEx(own, a->fin, TRUE);
    *a->registered = 1;
    SEXP outer = PROTECT(R_MakeExternalPtr(a->addr, tags[1], own));
    SEXP path = PROTECT(Rf_allocVector(STRSXP, 1));
    SET_STRING_ELT(path, 0, Rf_mkCharLenCE(a->path, a->n, CE_UTF8));
    SEXP out = Rf_allocVector(VECSXP, 2);
    SET_VECTOR_ELT(out, 0, outer);
    SET_VECTOR_ELT(out, 1, path);
    UNPROTECT(3);
    return out;
}
SEXP rustipc_lock_object(void *own, void *addr, const char *path, int n, R_CFinalizer_t fin, int *registered) {
    struct lock_args a = {own, addr, path, n, fin, registered};
    *registered = 0;
    SEXP x = protected_call(do_lock_object, &a);
    return x == NULL ? NULL : kept(x);
}

struct names_args { SEXP x, names; };
static SEXP do_names(void *d) {
    struct names_args *a = d;
    Rf_setAttrib(a->x, R_NamesSymbol, a->names);
    return a->x;
}
// names(x) <- names; NULL: stop.
SEXP rustipc_set_names(SEXP x, SEXP names) {
    struct names_args a = {x, names};
    return protected_call(do_names, &a);
}

static SEXP true_value, false_value; // made once at load, preserved
SEXP rustipc_lgl(int x) {
    return x ? true_value : false_value;
}

// The interrupt check: allowInterrupts(.Call(rs_check_interrupt)),
// evaluated in rustipc's namespace.  allowInterrupts() (base R) lets
// R_CheckUserInterrupt() see an interrupt also inside suspendInterrupts(),
// where rustipc's waits stay interruptible (R/rustipc-package.R); it
// restores the suspension as the jump passes through it.
static SEXP check_call = NULL, check_env = NULL;

SEXP rs_check_interrupt(void) {
    R_CheckUserInterrupt();
    return R_NilValue;
}

static void check_interrupt(void *unused) {
    (void) unused;
    if (check_call == NULL) {
        SEXP s = PROTECT(Rf_mkString("rustipc"));
        SEXP env = PROTECT(R_FindNamespace(s));
        SEXP inner = PROTECT(Rf_lang2(Rf_install(".Call"), Rf_install("rs_check_interrupt")));
        SEXP call = PROTECT(Rf_lang2(Rf_install("allowInterrupts"), inner));
        R_PreserveObject(env);
        R_PreserveObject(call);
        check_env = env;
        check_call = call;
        UNPROTECT(4);
    }
    Rf_eval(check_call, check_env);
}
// Whether the user asked R to interrupt, consuming the request (see above).
// R jumping out of the check for any other reason (an error raised by a
// time limit, say) also ends the wait as an interrupt.  Only R's main
// thread calls this (the only one that runs waits).
int rustipc_interrupted(void) {
    return R_ToplevelExec(check_interrupt, NULL) == FALSE;
}

// ---- the shims -----------------------------------------------------------

// Around every Rust call: the call's keep slots are released afterwards,
// and a jump R made during it continues once no Rust frame is left.
#define AROUND(call)                                          \
    int base__ = keep_top;                                    \
    SEXP result__ = call;                                     \
    for (int i__ = base__; i__ < keep_top; i__++)             \
        SET_VECTOR_ELT(keep, i__, R_NilValue);                \
    keep_top = base__;                                        \
    if (jump_pending) {                                       \
        jump_pending = 0;                                     \
        R_ContinueUnwind(cont);                               \
    }                                                         \
    return result__;

#define ARGS0
#define ARGS1 SEXP a
#define ARGS2 SEXP a, SEXP b
#define ARGS3 SEXP a, SEXP b, SEXP c
#define ARGS4 SEXP a, SEXP b, SEXP c, SEXP d
#define ARGS5 SEXP a, SEXP b, SEXP c, SEXP d, SEXP e
#define VALS0
#define VALS1 a
#define VALS2 a, b
#define VALS3 a, b, c
#define VALS4 a, b, c, d
#define VALS5 a, b, c, d, e
#define TYPES0 void
#define TYPES1 SEXP
#define TYPES2 SEXP, SEXP
#define TYPES3 SEXP, SEXP, SEXP
#define TYPES4 SEXP, SEXP, SEXP, SEXP
#define TYPES5 SEXP, SEXP, SEXP, SEXP, SEXP

// rs_hot_fail(result, "<name>", list(<arguments>)) in rustipc's namespace,
// for the hot calls' error lists (R/hot.R).  The arguments go in a list so
// that none is evaluated again (a symbol or a call passed as an argument
// stays a value).  R code runs here, after the Rust function has returned:
// an R error it raises unwinds through this C frame only.
static SEXP hot_fail(SEXP result, const char *name, int n, SEXP *args) {
    static SEXP ns = NULL, fun = NULL;
    PROTECT(result);
    if (ns == NULL) {
        SEXP s = PROTECT(Rf_mkString("rustipc"));
        ns = R_FindNamespace(s); // experimental API: the one way to reach our own namespace from C
        R_PreserveObject(ns);
        UNPROTECT(1);
        fun = Rf_install("rs_hot_fail");
    }
    SEXP list = PROTECT(Rf_allocVector(VECSXP, n));
    for (int i = 0; i < n; i++) SET_VECTOR_ELT(list, i, args[i]);
    SEXP what = PROTECT(Rf_mkString(name));
    SEXP call = PROTECT(Rf_lang4(fun, result, what, list));
    SEXP value = Rf_eval(call, ns);
    UNPROTECT(4);
    return value;
}

// Every entry point: X(kind, R name, number of arguments).  kind PLAIN: the
// result goes to R as it is; HOT: an error list goes to rs_hot_fail(),
// which raises the classed error or checks and converts the arguments and
// calls the _checked form (R/hot.R).  The Rust function is rsx_<name>.
#define ENTRY_POINTS(X)                 \
    X(PLAIN, uid, 0)                    \
    X(HOT, hash, 1)                     \
    X(PLAIN, hash_checked, 1)           \
    X(PLAIN, noop, 0)                   \
    X(PLAIN, backend, 0)                \
    X(PLAIN, test_panic, 0)             \
    X(PLAIN, mutex_open, 3)             \
    X(PLAIN, mutex_remove, 1)           \
    X(HOT, mutex_lock, 3)               \
    X(HOT, mutex_unlock, 2)             \
    X(PLAIN, mutex_lock_checked, 3)     \
    X(PLAIN, mutex_unlock_checked, 2)   \
    X(PLAIN, sem_open, 4)               \
    X(PLAIN, sem_remove, 1)             \
    X(HOT, sem_post, 1)                 \
    X(HOT, sem_wait, 2)                 \
    X(PLAIN, sem_wait_checked, 2)       \
    X(PLAIN, mq_open, 5)                \
    X(PLAIN, mq_take, 2)                \
    X(PLAIN, mq_settle, 3)              \
    X(PLAIN, mq_info, 1)                \
    X(PLAIN, mq_remove, 1)              \
    X(HOT, mq_send, 4)                  \
    X(HOT, mq_receive, 2)               \
    X(PLAIN, mq_send_checked, 4)        \
    X(PLAIN, mq_receive_checked, 2)     \
    X(PLAIN, lock, 3)                   \
    X(PLAIN, unlock, 1)                 \
    X(PLAIN, lock_info, 1)              \
    X(PLAIN, objects, 0)                \
    X(PLAIN, remove_name, 2)            \
    X(PLAIN, cleanup_orphans, 0)        \
    X(PLAIN, object_dir, 0)             \
    X(PLAIN, stamps, 1)

#define WRAP_PLAIN(name, n)                                               \
    static SEXP shim_##name(ARGS##n) { AROUND(rsx_##name(VALS##n)) }
#define WRAP_HOT(name, n)                                                 \
    static SEXP raw_##name(ARGS##n) { AROUND(rsx_##name(VALS##n)) }       \
    static SEXP shim_##name(ARGS##n) {                                    \
        SEXP r = raw_##name(VALS##n);                                     \
        if (TYPEOF(r) != VECSXP) return r;                                \
        SEXP args[n] = {VALS##n};                                         \
        return hot_fail(r, #name, n, args);                               \
    }
#define DECLARE(kind, name, n) SEXP rsx_##name(TYPES##n);
#define DEFINE(kind, name, n) WRAP_##kind(name, n)
ENTRY_POINTS(DECLARE)
ENTRY_POINTS(DEFINE)

// For with.c: the calls, results as the Rust code gives them.
SEXP rs_call_mutex_lock(SEXP h, SEXP shared, SEXP t) { return raw_mutex_lock(h, shared, t); }
SEXP rs_call_mutex_unlock(SEXP h) { return raw_mutex_unlock(h, true_value); }
SEXP rs_call_sem_wait(SEXP h, SEXP t) { return raw_sem_wait(h, t); }
SEXP rs_call_mq_take(SEXP h, SEXP t) { return shim_mq_take(h, t); }
SEXP rs_call_mq_settle(SEXP h, SEXP token, SEXP put_back) {
    return shim_mq_settle(h, token, put_back);
}

#define CALL_ENTRY(kind, name, n) {"rs_" #name, (DL_FUNC) &shim_##name, n},
static const R_CallMethodDef call_methods[] = {
    ENTRY_POINTS(CALL_ENTRY)
    {"rs_check_interrupt", (DL_FUNC) &rs_check_interrupt, 0},
    {NULL, NULL, 0}
};

static const R_ExternalMethodDef external_methods[] = {
    {"rs_with_mutex", (DL_FUNC) &rs_with_mutex, 5},
    {"rs_with_semaphore", (DL_FUNC) &rs_with_semaphore, 4},
    {"rs_with_msg_queue", (DL_FUNC) &rs_with_msg_queue, 4},
    {"rs_with_stats", (DL_FUNC) &rs_with_stats, 0},
    {NULL, NULL, 0}
};

void rustipc_init(void); // Rust: installs the interrupt check

void R_init_rustipc(DllInfo *dll) {
    keep = Rf_allocVector(VECSXP, KEEP_SLOTS);
    R_PreserveObject(keep);
    cont = R_MakeUnwindCont();
    R_PreserveObject(cont);
    true_value = Rf_ScalarLogical(TRUE);
    R_PreserveObject(true_value);
    false_value = Rf_ScalarLogical(FALSE);
    R_PreserveObject(false_value);
    tags[0] = Rf_install("rustipc_handle");
    tags[1] = Rf_install("rustipc_lock");
    tags[2] = Rf_install("rustipc_lock_handle");
    rustipc_init();
    R_registerRoutines(dll, NULL, call_methods, NULL, external_methods);
    R_useDynamicSymbols(dll, FALSE);
    R_forceSymbols(dll, TRUE);
}
