/*
 * berth-pause: the process of a pod's sandbox container. It holds the pod's namespaces open and, as PID 1
 * of the pod's pid namespace, reaps every process orphaned into it; SIGTERM or SIGINT ends it with status 0.
 * Built static (native/binding.gyp) so that an image of this one file runs anywhere.
 *
 * Signals are blocked and taken with sigwaitinfo rather than by handlers: no async-signal-safety concerns,
 * and a blocked signal is queued even for a pid namespace's init, which the kernel otherwise spares every
 * signal it has no handler for.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void reap_all(void) {
  for (;;) {
    pid_t pid = waitpid(-1, NULL, WNOHANG);
    if (pid > 0) continue;
    if (pid < 0 && errno == EINTR) continue;
    return; /* 0: children left but none exited; -1 ECHILD: none left */
  }
}

static void noop(int sig) { (void)sig; }

int main(int argc, char **argv) {
  if (argc > 1 && (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0)) {
    puts("berth-pause 1");
    return 0;
  }
  if (getpid() != 1) fputs("berth-pause: warning: not PID 1, orphans are reaped only by their namespace's init\n", stderr);

  /* Dispositions are inherited across exec: a SIGCHLD left at SIG_IGN would have the kernel reap for us
   * (and hide the zombies this process exists to reap). A handler, never run while blocked, resets that. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = noop;
  sigemptyset(&sa.sa_mask);
  const int sigs[] = { SIGCHLD, SIGTERM, SIGINT };
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
    if (sigaction(sigs[i], &sa, NULL) != 0) { perror("berth-pause: sigaction"); return 1; }
    sigaddset(&set, sigs[i]);
  }
  if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) { perror("berth-pause: sigprocmask"); return 1; }

  /* a child may have exited before SIGCHLD was blocked */
  reap_all();
  for (;;) {
    int sig = sigwaitinfo(&set, NULL);
    if (sig < 0) {
      if (errno == EINTR) continue;
      perror("berth-pause: sigwaitinfo");
      return 1;
    }
    if (sig == SIGCHLD) {
      reap_all();
      continue;
    }
    reap_all();
    return 0;
  }
}
