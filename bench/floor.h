/* Shared by the C floors of `make bench` (handoff_floor.c, lock_floor.c):
 * K hand-offs, wall-clock microseconds, and the "median p90" report of the
 * K - 1 hand-offs after the first (the first warms up). */
#ifndef RUSTIPC_BENCH_FLOOR_H
#define RUSTIPC_BENCH_FLOOR_H
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#define K 41

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The shared state of a floor: three process-shared semaphores and the
 * times, in an anonymous shared mapping that the fork()ed waiter inherits. */
struct shared { sem_t go, ready, fin; double rel[K], got[K]; };

static struct shared *shared_new(void) {
  struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (s == MAP_FAILED) return NULL;
  sem_init(&s->go, 1, 0); sem_init(&s->ready, 1, 0); sem_init(&s->fin, 1, 0);
  return s;
}

static void report(const double *rel, const double *got) {
  double d[K - 1];
  for (int i = 1; i < K; i++) d[i - 1] = got[i] - rel[i];
  qsort(d, K - 1, sizeof d[0], cmp);
  printf("%.0f %.0f\n", d[(K - 1) / 2], d[(int)((K - 1) * 0.9)]);
}
#endif
