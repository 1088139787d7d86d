// Shared between entrypoint.c and with.c.
#ifndef RUSTIPC_H
#define RUSTIPC_H
#include <Rinternals.h>

// Rust calls, made with R's interrupts suspended (entrypoint.c).
SEXP rs_call_mutex_lock(SEXP h, SEXP shared, SEXP timeout_ms);
SEXP rs_call_mutex_unlock(SEXP h);
SEXP rs_call_sem_wait(SEXP h, SEXP timeout_ms);
SEXP rs_call_mq_take(SEXP h, SEXP timeout_ms);
SEXP rs_call_mq_settle(SEXP h, SEXP token, SEXP put_back);

// with() (with.c).
SEXP rs_with_mutex(SEXP args);
SEXP rs_with_semaphore(SEXP args);
SEXP rs_with_msg_queue(SEXP args);
SEXP rs_with_stats(SEXP args);
#endif
