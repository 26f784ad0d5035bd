/*
 * A launcher outside Node, linked only with the berth_bootstrap static library (no N-API): what the
 * native front-end does with the bytes the server sends. Reads a plan from stdin, forks the bootstrap,
 * answers the sync protocol (GO to every request), then prints each message it got and the exit status.
 */
#include "bootstrap.h"
#include "exec_shim_fd.h"
#include "read_plan.h"
#include "sync.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void go(int fd) {
  struct sync_msg m = {.type = MSG_GO};
  if (write(fd, &m, sizeof m) != (ssize_t)sizeof m) perror("write GO");
}

int main(void) {
  struct plan_arena arena = {0};
  struct plan *p = read_plan(&arena);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return 3;
  p->sync_fd = sv[1];
  p->exec_shim_fd = exec_shim_fd();
  if (p->exec_shim_fd < 0) return 4;
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);
  bool direct;
  pid_t pid = bootstrap_fork(p, &direct);
  sigprocmask(SIG_SETMASK, &old, NULL);
  close(sv[1]);
  plan_arena_free(&arena);
  if (pid < 0) return 5;
  pid_t container = direct ? pid : 0;
  if (!direct) waitpid(pid, NULL, 0); /* stage 1 exits once the container process exists */
  else go(sv[0]);                     /* a direct child waits for GO (its cgroup placement) */
  struct sync_msg m;
  while (read(sv[0], &m, sizeof m) == (ssize_t)sizeof m) {
    char payload[4097] = "";
    if (m.len && read(sv[0], payload, m.len > 4096 ? 4096 : m.len) < 0) break;
    printf("msg %u %d %d %d %s\n", m.type, m.a, m.b, m.c, payload);
    if (m.type == MSG_PID) container = m.a;
    if (m.type == MSG_NEED_MAPS || m.type == MSG_PID || m.type == MSG_MOUNTED) go(sv[0]);
  }
  int status = 0;
  if (container > 0) waitpid(container, &status, 0);
  printf("exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 0;
}
