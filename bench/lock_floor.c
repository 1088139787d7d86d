/* A floor for the lock() and filelock rows of `make bench`: the hand-off
 * of a whole-file lock between two processes in C, no R, with the kind of
 * wait each package uses:
 *   classic: fcntl(F_SETLKW), as filelock's lock(timeout = Inf);
 *   ofd:     fcntl(F_OFD_SETLKW) with a per-thread timer armed for the
 *            50 ms slice and disarmed after, as rustipc's lock() on Linux.
 * Protocol as bench/handoff_floor.c: the releaser holds the lock, the
 * waiter blocks, the releaser idles 2 ms, notes the time and unlocks; the
 * waiter notes the time it got the lock.
 *   lock_floor classic|ofd FILE       prints "median p90" in microseconds. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "floor.h"

static void on_sig(int s) { (void) s; }

static int setlk(int fd, int ofd, int wait, short type) {
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  int cmd = ofd ? (wait ? F_OFD_SETLKW : F_OFD_SETLK) : (wait ? F_SETLKW : F_SETLK);
  return fcntl(fd, cmd, &fl);
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  int ofd = strcmp(argv[1], "ofd") == 0;
  struct shared *s = shared_new();
  if (s == NULL) return 1;
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    int fd = open(argv[2], O_RDWR | O_CREAT, 0600);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig; /* no SA_RESTART */
    sigaction(SIGRTMAX - 3, &sa, NULL);
    for (int i = 0; i < K; i++) {
      while (sem_wait(&s->go) != 0) {}
      sem_post(&s->ready);
      timer_t t = 0;
      if (ofd) {
        struct sigevent ev;
        memset(&ev, 0, sizeof ev);
        ev.sigev_notify = SIGEV_THREAD_ID;
        ev.sigev_signo = SIGRTMAX - 3;
        ev._sigev_un._tid = (pid_t) syscall(SYS_gettid);
        timer_create(CLOCK_MONOTONIC, &ev, &t);
        struct itimerspec its = {{0, 0}, {0, 50000000}};
        timer_settime(t, 0, &its, NULL);
      }
      while (setlk(fd, ofd, 1, F_WRLCK) != 0) {}
      s->got[i] = now_us();
      if (ofd) {
        struct itimerspec zero = {{0, 0}, {0, 0}};
        timer_settime(t, 0, &zero, NULL);
        timer_delete(t);
      }
      setlk(fd, ofd, 0, F_UNLCK);
      sem_post(&s->fin);
    }
    _exit(0);
  }
  int fd = open(argv[2], O_RDWR | O_CREAT, 0600);
  for (int i = 0; i < K; i++) {
    setlk(fd, ofd, 1, F_WRLCK);
    sem_post(&s->go);
    while (sem_wait(&s->ready) != 0) {}
    usleep(2000);
    s->rel[i] = now_us();
    setlk(fd, ofd, 0, F_UNLCK);
    while (sem_wait(&s->fin) != 0) {}
  }
  waitpid(pid, NULL, 0);
  report(s->rel, s->got);
  return 0;
}
