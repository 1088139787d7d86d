/* The floor for the hand-off rows of `make bench`: the same protocol as
 * bench/run.R's handoff() (the waiter blocks, the releaser idles 2 ms,
 * notes the time and posts; the waiter notes the time it woke), in C with
 * process-shared POSIX semaphores and no R in between.
 *   handoff_floor [same|other]
 * same: both processes pinned to the first CPU this process may use;
 * other: the waiter pinned to a second one; no argument: not pinned.
 * Prints "median p90" in microseconds ("NA NA" where pinning is not
 * possible: one CPU, or not Linux). */
#define _GNU_SOURCE
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#ifdef __linux__
#include <sched.h>
#endif
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "floor.h"

/* Pin this process to the n-th CPU it could run on at the start; 0 if
 * impossible. */
#ifdef __linux__
static cpu_set_t all;
static int have_all = 0;
#endif
static int pin(int n) {
#ifdef __linux__
  cpu_set_t one;
  if (!have_all) {
    if (sched_getaffinity(0, sizeof all, &all) != 0) return 0;
    have_all = 1;
  }
  for (int c = 0, k = 0; c < CPU_SETSIZE; c++) {
    if (!CPU_ISSET(c, &all)) continue;
    if (k++ == n) {
      CPU_ZERO(&one);
      CPU_SET(c, &one);
      return sched_setaffinity(0, sizeof one, &one) == 0;
    }
  }
#else
  (void) n;
#endif
  return 0;
}

int main(int argc, char **argv) {
  int mode = argc > 1 ? (strcmp(argv[1], "same") == 0 ? 1 : strcmp(argv[1], "other") == 0 ? 2 : 0) : 0;
  if (mode && !pin(0)) { printf("NA NA\n"); return 0; }
  if (mode == 2) {
    /* Check that a second CPU exists before forking. */
    if (!pin(1)) { printf("NA NA\n"); return 0; }
    pin(0);
  }
  struct shared *s = shared_new();
  if (s == NULL) return 1;
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    if (mode == 2) pin(1);
    for (int i = 0; i < K; i++) {
      sem_post(&s->ready);
      while (sem_wait(&s->go) != 0) {}
      s->got[i] = now_us();
      sem_post(&s->fin);
    }
    _exit(0);
  }
  for (int i = 0; i < K; i++) {
    while (sem_wait(&s->ready) != 0) {}
    usleep(2000);
    s->rel[i] = now_us();
    sem_post(&s->go);
    while (sem_wait(&s->fin) != 0) {}
  }
  waitpid(pid, NULL, 0);
  report(s->rel, s->got);
  return 0;
}
