/*
 * Stage 1 runs in a fresh fork of the Node process (single-threaded from here on): it joins the
 * namespaces given by path, creates the user namespace (the parent writes the id maps), unshares the
 * rest and clones stage 2 as a sibling (CLONE_PARENT), so the container process is a child of the
 * caller, not of this short-lived stage. Stage 2 becomes the container's init.
 * When there is nothing to join and no user namespace, spawn.c clones stage 2 straight from the caller
 * with the namespace flags (direct_main): one copy of Node's page tables instead of two.
 */
#include "bootstrap.h"
#include "bootstrap_process.h"
#include "bootstrap_rootfs.h"
#include "fdutil.h"
#include "sync.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* "0" to a cgroup file: moves the writer itself. */
static int write_zero(const char *file) {
  int fd = open(file, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, "0", 1);
  int err = errno;
  close(fd);
  errno = err;
  return n == 1 ? 0 : -1;
}

/*
 * The cgroups the plan has us join ourselves (plan.h cgroup_tasks): a v1 `tasks` write of "0" moves only
 * this thread and skips the global threadgroup lock, whose every taking by a cgroup.procs write can wait
 * for an RCU grace period (7-20 ms measured here). The v2 directory was entered at clone when the kernel
 * allowed CLONE_INTO_CGROUP.
 */
static void join_cgroups(struct plan *p) {
  for (int i = 0; i < p->ncgroup_tasks; i++)
    if (write_zero(p->cgroup_tasks[i]) != 0) sync_error(p, STEP_CGROUP, errno, i, p->cgroup_tasks[i]);
  if (p->cgroup_v2 && !p->in_cgroup_v2) {
    char file[4096];
    if (snprintf(file, sizeof file, "%s/cgroup.procs", p->cgroup_v2) >= (int)sizeof file)
      sync_error(p, STEP_CGROUP, ENAMETOOLONG, -1, p->cgroup_v2);
    if (write_zero(file) != 0) sync_error(p, STEP_CGROUP, errno, -1, file);
  }
}

static void stage2_main(struct plan *p) {
  /* Wait until the parent has made our cgroups (or put us there): the cgroup namespace must be rooted there. */
  if (p->wait_placed) (void)sync_wait_go(p);
  join_cgroups(p);
  if ((p->clone_flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) != 0)
    sync_error(p, STEP_CGROUPNS, errno, -1, "unshare(CLONE_NEWCGROUP)");

  /* Held as an O_PATH fd because the host path is out of reach after pivot_root. */
  p->fifo_fd = -1;
  if (p->exec_fifo && (p->fifo_fd = open(p->exec_fifo, O_PATH | O_CLOEXEC)) < 0)
    sync_error(p, STEP_FIFO, errno, -1, p->exec_fifo);
  if (p->rootfs) setup_rootfs_before_hooks(p);
  char *hook_state = NULL;
  if (p->pause_after_mounts) {
    if (sync_send(p->sync_fd, MSG_MOUNTED, 0, 0, 0, NULL, 0) != 0) _exit(126);
    hook_state = sync_wait_go(p);
  }
  run_hooks(p, p->create_hooks, p->ncreate_hooks, hook_state, "hooks.createContainer");
  if (p->rootfs) setup_rootfs_after_hooks(p);
  finish_and_exec(p, hook_state);
}

/*
 * Open every namespace first, then join: after joining a mount namespace, /proc is the container's and
 * the other /proc/<pid>/ns paths would no longer resolve. The mount namespace is joined last.
 */
static void join_namespaces(struct plan *p) {
  int fds[16];
  if (p->njoin > 16) sync_error(p, STEP_SETNS, E2BIG, -1, "too many namespaces to join");
  for (int i = 0; i < p->njoin; i++) {
    fds[i] = open(p->join_paths[i], O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) sync_error(p, STEP_SETNS, errno, i, p->join_paths[i]);
  }
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < p->njoin; i++) {
      if ((p->join_types[i] == CLONE_NEWNS) != (pass == 1)) continue;
      if (setns(fds[i], p->join_types[i]) != 0) sync_error(p, STEP_SETNS, errno, i, p->join_paths[i]);
      close(fds[i]);
    }
  }
}

static void write_time_offsets(struct plan *p) {
  int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
  if (fd < 0) sync_error(p, STEP_TIMENS, errno, -1, "/proc/self/timens_offsets");
  size_t len = strlen(p->time_offsets);
  if (write(fd, p->time_offsets, len) != (ssize_t)len) sync_error(p, STEP_TIMENS, errno, -1, p->time_offsets);
  close(fd);
}

/*
 * fork() copies every descriptor, close-on-exec or not: another container's sync socket, Node's epoll
 * fd. Keep only what the plan names, so nothing of the parent leaks and no other launch is held open.
 */
static void close_other_fds(struct plan *p) {
  int keep[16 + 3];
  int n = 0;
  keep[n++] = p->sync_fd;
  keep[n++] = p->exec_shim_fd;
  if (p->console_socket >= 0) keep[n++] = p->console_socket;
  for (int i = 0; i < 3; i++) if (p->stdio[i] >= 0) keep[n++] = p->stdio[i];
  close_fds_except(3 + (unsigned)p->preserve_fds, keep, n);
}

/*
 * Field 22 of /proc/self/stat (start time in clock ticks), which the parent records with the pid to tell
 * this process from a later one with the same pid. Read here, while /proc is still the host's, it saves
 * the parent a file read. Empty when unreadable: the parent then reads it itself.
 */
static uint32_t own_start_time(char *out, size_t size) {
  char buf[1024];
  int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  char *f = strrchr(buf, ')'); /* the command name may contain spaces and parentheses */
  if (!f) return 0;
  f += 2;
  for (int field = 3; field < 22 && f; field++) { /* f is at field 3 (state) */
    f = strchr(f, ' ');
    if (f) f++;
  }
  if (!f) return 0;
  size_t len = strcspn(f, " ");
  if (len == 0 || len >= size) return 0;
  memcpy(out, f, len);
  return (uint32_t)len;
}

void direct_main(struct plan *p) {
  close_other_fds(p);
  if (p->report_pid) {
    char start[32];
    uint32_t len = own_start_time(start, sizeof start);
    if (sync_send(p->sync_fd, MSG_PID, p->child_pid, 0, 0, start, len) != 0) _exit(126);
  }
  stage2_main(p);
  _exit(127);
}

int stage1_main(struct plan *p) {
  close_other_fds(p);
  join_namespaces(p);
  if (p->new_userns) {
    if (unshare(CLONE_NEWUSER) != 0) sync_error(p, STEP_USERNS, errno, -1, "unshare(CLONE_NEWUSER)");
    if (sync_send(p->sync_fd, MSG_NEED_MAPS, getpid(), 0, 0, NULL, 0) != 0) _exit(126);
    (void)sync_wait_go(p);
    /* raw syscalls: glibc's wrappers wait for Node's threads, absent here (see set_identity) */
    if (syscall(SYS_setresgid, 0, 0, 0) != 0) sync_error(p, STEP_USERNS, errno, -1, "setresgid(0) in the new user namespace");
    if (syscall(SYS_setresuid, 0, 0, 0) != 0) sync_error(p, STEP_USERNS, errno, -1, "setresuid(0) in the new user namespace");
  }
  /* The cgroup namespace waits until stage 2 is placed in its cgroup. */
  int flags = p->clone_flags & ~CLONE_NEWCGROUP;
  if (flags && unshare(flags) != 0) sync_error(p, STEP_UNSHARE, errno, -1, "unshare");
  if (p->time_offsets) write_time_offsets(p);

  pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid < 0) sync_error(p, STEP_CLONE, errno, -1, "clone");
  if (pid == 0) {
    stage2_main(p);
    _exit(127);
  }
  if (sync_send(p->sync_fd, MSG_PID, pid, 0, 0, NULL, 0) != 0) {
    kill(pid, SIGKILL);
    _exit(126);
  }
  _exit(0);
}

/* The child keeps nothing of Node's signal handling: every handler back to default, nothing blocked. */
void bootstrap_reset_signals(void) {
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &dfl, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

bool bootstrap_is_direct(const struct plan *p) { return p->njoin == 0 && !p->new_userns && !p->time_offsets; }

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif

/* struct clone_args of <linux/sched.h> (v2, with cgroup), which does not mix with glibc's <sched.h> */
struct clone3_args {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

/*
 * A fork with the namespace flags, into the plan's v2 cgroup when it has one: placed at clone, the process
 * never takes the threadgroup lock that a cgroup.procs write does. Falls back to a plain clone (the child
 * then writes its cgroup.procs itself) when the kernel refuses clone3 or the cgroup.
 */
static pid_t clone_direct(struct plan *p, int flags) {
  if (p->cgroup_v2) {
    int cg = open(p->cgroup_v2, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cg >= 0) {
      struct clone3_args args = {.flags = (uint64_t)(unsigned)flags | CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t)cg};
      p->in_cgroup_v2 = true; /* the child's copy of the plan says where it is */
      pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
      int err = errno;
      if (pid != 0) close(cg);
      if (pid >= 0) return pid;
      errno = err;
    }
    p->in_cgroup_v2 = false;
  }
  return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

/*
 * Enters the plan's ready-made network namespace (plan.h netns_fd) for the clone that follows, which then
 * needs no CLONE_NEWNET: making a namespace is ~0.3 ms of the clone, paid by the pool ahead of time.
 * Returns the namespace to come back to (-1: none entered, the flags unchanged). Single-threaded callers
 * only (the front-end): setns moves the calling thread.
 */
static int enter_ready_netns(struct plan *p, int *flags) {
  if (p->netns_fd < 0 || !(*flags & CLONE_NEWNET)) return -1;
  int own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (own < 0) return -1;
  if (setns(p->netns_fd, CLONE_NEWNET) != 0) {
    close(own);
    return -1;
  }
  *flags &= ~CLONE_NEWNET;
  return own;
}

/* Back to our own network namespace after the clone; the child keeps the one it was cloned in. */
static void leave_ready_netns(int own) {
  if (own < 0) return;
  /* cannot fail for a namespace we were in a moment ago; were it to, we stay there: all this process
     still does is talk over the socket it already has and wait for its child */
  (void)setns(own, CLONE_NEWNET);
  close(own);
}

pid_t bootstrap_fork(struct plan *p, bool *direct_out) {
  /*
   * Direct: nothing to join, no user namespace (the parent must map it before the rest is created), no
   * time namespace (clone() has no flag for it): clone the container process itself with the namespace
   * flags, skipping stage 1 and its second copy of the caller's address space. The cgroup namespace still
   * waits for the parent's GO (stage 2 unshares it once placed). If the kernel refuses the flags, stage 1
   * unshares them one step at a time and reports which step failed.
   */
  bool direct = bootstrap_is_direct(p);
  pid_t pid = -1;
  if (direct) {
    /* The raw syscall, not fork(): glibc's fork runs the atfork handlers that libuv and OpenSSL registered,
       which close and reopen descriptors in the child. After it, the child calls no malloc. */
    int flags = p->clone_flags & ~CLONE_NEWCGROUP;
    int own_netns = enter_ready_netns(p, &flags);
    pid = clone_direct(p, flags);
    if (pid != 0) leave_ready_netns(own_netns);
    if (pid == 0) { /* close_other_fds drops both namespace descriptors */
      bootstrap_reset_signals();
      /* Not dumpable until it execs the sealed shim (exec_shim_fd.c): until then its /proc/<pid>/exe is
         the caller's binary and its memory a copy of the caller's, neither for a container to open
         (CVE-2019-5736). */
      prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
      direct_main(p);
    }
    if (pid < 0) direct = false;
  }
  if (!direct) pid = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid == 0) {
    bootstrap_reset_signals();
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    stage1_main(p);
    _exit(127);
  }
  *direct_out = direct;
  return pid;
}
