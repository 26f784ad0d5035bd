/*
 * Process steps of the bootstrap, after the root filesystem: console, limits, identity, capabilities,
 * the exec fifo, container hooks, seccomp and finally execve. Order follows runc's init.
 */
#include "bootstrap_process.h"
#include "fdutil.h"
#include "sync.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/seccomp.h>
#include <linux/filter.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static void send_console(struct plan *p, int master, const char *name) {
  char cbuf[CMSG_SPACE(sizeof(int))];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = {.iov_base = (void *)name, .iov_len = strlen(name)};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &master, sizeof(int));
  ssize_t n;
  do n = sendmsg(p->console_socket, &msg, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  if (n < 0) sync_error(p, STEP_CONSOLE, errno, -1, "send to console socket");
}

/* The pty comes from the container's own devpts (/dev/ptmx after pivot_root). */
static void setup_console(struct plan *p) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) sync_error(p, STEP_CONSOLE, errno, -1, "/dev/ptmx");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) != 0) sync_error(p, STEP_CONSOLE, errno, -1, "unlockpt");
  unsigned ptn = 0;
  if (ioctl(master, TIOCGPTN, &ptn) != 0) sync_error(p, STEP_CONSOLE, errno, -1, "ptsname");
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (slave < 0) sync_error(p, STEP_CONSOLE, errno, -1, "open pty peer");
  if (p->console_rows || p->console_cols) {
    struct winsize ws = {.ws_row = p->console_rows, .ws_col = p->console_cols};
    ioctl(slave, TIOCSWINSZ, &ws);
  }
  char name[64];
  snprintf(name, sizeof name, "/dev/pts/%u", ptn);
  if (p->console_socket >= 0) send_console(p, master, name);
  close(master);
  if (setsid() < 0) sync_error(p, STEP_CONSOLE, errno, -1, "setsid");
  if (ioctl(slave, TIOCSCTTY, 0) != 0) sync_error(p, STEP_CONSOLE, errno, -1, "TIOCSCTTY");
  for (int fd = 0; fd < 3; fd++)
    if (dup3(slave, fd, 0) < 0) sync_error(p, STEP_CONSOLE, errno, -1, "dup pty");
  if (slave > 2) close(slave);
}

static int wait_with_timeout(pid_t pid, int timeout, int *status) {
  struct timespec tick = {.tv_sec = 0, .tv_nsec = 2 * 1000 * 1000};
  long waited_ms = 0;
  for (;;) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid) return 0;
    if (r < 0 && errno != EINTR) return -1;
    if (timeout > 0 && waited_ms >= (long)timeout * 1000) {
      kill(pid, SIGKILL);
      waitpid(pid, status, 0);
      return errno = ETIMEDOUT, -1;
    }
    nanosleep(&tick, NULL);
    waited_ms += 2;
    if (tick.tv_nsec < 50 * 1000 * 1000) tick.tv_nsec *= 2;
    waited_ms += tick.tv_nsec / 2000000;
  }
}

/* Hooks that run inside the container's namespaces: fork, state JSON on stdin, exit 0 or fail. */
void run_hooks(struct plan *p, struct hook_step *hooks, int n, const char *state, const char *field) {
  for (int i = 0; i < n; i++) {
    struct hook_step *h = &hooks[i];
    char detail[512];
    int in[2];
    if (pipe2(in, O_CLOEXEC) != 0) sync_error(p, STEP_HOOK, errno, i, field);
    /* raw clone, not fork(): no atfork handlers of the Node process may run here */
    pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid < 0) sync_error(p, STEP_HOOK, errno, i, field);
    if (pid == 0) {
      dup3(in[0], 0, 0);
      int shim = p->exec_shim_fd;
      close_fds_except(3, &shim, 1);
      /* Through the exec shim too (see exec_program): a startContainer hook's path resolves inside the
         container, where it may be a link to /proc/self/exe. argv on the stack: no malloc after fork. */
      int nargs = 0;
      while (h->args[nargs]) nargs++;
      char *argv[nargs + 2];
      argv[0] = h->path;
      memcpy(argv + 1, h->args, (size_t)(nargs + 1) * sizeof(char *));
      syscall(SYS_execveat, (long)shim, "", argv, h->env, (long)AT_EMPTY_PATH);
      _exit(127);
    }
    close(in[0]);
    if (state) {
      size_t len = strlen(state), off = 0;
      while (off < len) {
        ssize_t w = write(in[1], state + off, len - off);
        if (w <= 0) break;
        off += (size_t)w;
      }
    }
    close(in[1]);
    int status = 0;
    if (wait_with_timeout(pid, h->timeout, &status) != 0) {
      snprintf(detail, sizeof detail, "%s[%d] %s: timed out after %ds", field, h->field_index, h->path, h->timeout);
      sync_error(p, STEP_HOOK, ETIMEDOUT, i, detail);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      snprintf(detail, sizeof detail, "%s[%d] %s: %s %d", field, h->field_index, h->path,
               WIFEXITED(status) ? "exit status" : "killed by signal",
               WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
      sync_error(p, STEP_HOOK, 0, i, detail);
    }
  }
}

static void set_rlimits(struct plan *p) {
  for (int i = 0; i < p->nrlimits; i++) {
    struct rlimit rl = {.rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard};
    if (setrlimit(p->rlimits[i].resource, &rl) != 0) sync_error(p, STEP_RLIMIT, errno, i, NULL);
  }
}

static void write_oom_score(struct plan *p) {
  char buf[16];
  int len = snprintf(buf, sizeof buf, "%d", p->oom_score_adj);
  int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, buf, (size_t)len) != len) sync_error(p, STEP_OOM, errno, -1, buf);
  close(fd);
}


static bool needs_admin_for_filter(struct plan *p) {
  return p->seccomp && !p->no_new_privs && p->has_caps && !(p->cap_permitted & (1ULL << CAP_SYS_ADMIN));
}

static void drop_bounding(struct plan *p) {
  for (int cap = 0; cap <= 63; cap++) {
    if (p->cap_bounding & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) break; /* past the kernel's last capability */
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) sync_error(p, STEP_CAPS, errno, cap, "bounding");
  }
}

static void set_capabilities(struct plan *p) {
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  data[0].effective = (uint32_t)p->cap_effective;
  data[1].effective = (uint32_t)(p->cap_effective >> 32);
  /* Without no_new_privs, loading the filter takes CAP_SYS_ADMIN: it is kept in the permitted set (not the
     effective one) until then; exec_program drops it again right after the filter is on. */
  uint64_t permitted = p->cap_permitted;
  if (needs_admin_for_filter(p)) permitted |= 1ULL << CAP_SYS_ADMIN;
  data[0].permitted = (uint32_t)permitted;
  data[1].permitted = (uint32_t)(permitted >> 32);
  data[0].inheritable = (uint32_t)p->cap_inheritable;
  data[1].inheritable = (uint32_t)(p->cap_inheritable >> 32);
  if (syscall(SYS_capset, &hdr, data) != 0) sync_error(p, STEP_CAPS, errno, -1, "capset");
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  /* Like runc, an ambient capability that is not also inheritable and permitted is skipped, not fatal:
     runc's default spec lists ambient capabilities without inheritable ones. */
  for (int cap = 0; cap <= 63; cap++)
    if ((p->cap_ambient & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0 && errno != EPERM)
      sync_error(p, STEP_CAPS, errno, cap, "ambient");
}

/*
 * Raw syscalls, not glibc's setgroups/setresgid/setresuid: in a process cloned from multi-threaded Node
 * with a raw clone, glibc still believes Node's threads exist and its wrappers signal each of them
 * (SIGSETXID) and wait for answers that never come: a container process hung in __nptl_setxid was seen
 * with 8 CLIs in flight. The raw calls change this (only) thread, which is the whole process here.
 */
static void set_identity(struct plan *p) {
  if (p->has_caps) drop_bounding(p);
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) sync_error(p, STEP_CAPS, errno, -1, "keepcaps");
  if (p->set_groups && syscall(SYS_setgroups, (size_t)p->ngroups, p->groups) != 0) sync_error(p, STEP_GROUPS, errno, -1, NULL);
  if (syscall(SYS_setresgid, p->gid, p->gid, p->gid) != 0) sync_error(p, STEP_SETGID, errno, (int)p->gid, NULL);
  if (syscall(SYS_setresuid, p->uid, p->uid, p->uid) != 0) sync_error(p, STEP_SETUID, errno, (int)p->uid, NULL);
  prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  if (p->has_caps) set_capabilities(p);
}

/* cwd must resolve inside the container's root: a leaked host fd could otherwise be entered (CVE-2024-21626). */
static void enter_cwd(struct plan *p) {
  if (chdir(p->cwd) != 0) sync_error(p, STEP_CWD, errno, -1, p->cwd);
  char buf[4096];
  if (getcwd(buf, sizeof buf) == NULL || buf[0] != '/') sync_error(p, STEP_CWD, errno ? errno : ENOENT, -1, p->cwd);
}

static const char *getenv_in(char **env, const char *name) {
  size_t len = strlen(name);
  for (char **e = env; e && *e; e++)
    if (strncmp(*e, name, len) == 0 && (*e)[len] == '=') return *e + len + 1;
  return NULL;
}

/* execvpe's search, done before READY so `create` reports a missing executable. */
static char *lookup(struct plan *p) {
  const char *file = p->args[0];
  if (!file || !*file) sync_error(p, STEP_LOOKUP, ENOENT, -1, "");
  char *found = p->exe_path; /* no malloc after fork: another Node thread may have held its lock */
  if (strchr(file, '/')) {
    if (access(file, X_OK) != 0) sync_error(p, STEP_LOOKUP, errno, -1, file);
    return (char *)file;
  }
  const char *path = getenv_in(p->env, "PATH");
  if (!path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  int last_err = ENOENT;
  while (*path) {
    const char *colon = strchr(path, ':');
    size_t dlen = colon ? (size_t)(colon - path) : strlen(path);
    char cand[4096];
    snprintf(cand, sizeof cand, "%.*s/%s", (int)(dlen ? dlen : 1), dlen ? path : ".", file);
    struct stat st;
    if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
      if (access(cand, X_OK) == 0) {
        memcpy(found, cand, sizeof p->exe_path);
        return found;
      }
      last_err = EACCES;
    }
    if (!colon) break;
    path = colon + 1;
  }
  sync_error(p, STEP_LOOKUP, last_err, -1, file);
}

static void wait_for_start(struct plan *p, int fifo) {
  /* A non-dumpable process's /proc/self belongs to root, so a non-root user could not reopen the fifo.
     With a new pid namespace nothing in the container can see us yet: being dumpable is safe here. */
  if (p->uid != 0 && (p->clone_flags & CLONE_NEWPID)) prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fifo);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) sync_error(p, STEP_FIFO, errno, -1, "exec fifo");
  if (write(fd, "0", 1) != 1) sync_error(p, STEP_FIFO, errno, -1, "exec fifo");
  close(fd);
  close(fifo);
}

static int caps_get(struct __user_cap_data_struct data[2]) {
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  return (int)syscall(SYS_capget, &hdr, data);
}

static int caps_set(struct __user_cap_data_struct data[2]) {
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  return (int)syscall(SYS_capset, &hdr, data);
}

/*
 * The end of the bootstrap: the seccomp filter, then the exec shim. The filter goes on as late as possible
 * (runc's rule), so that a profile needs to allow nothing of berth's own. After seccomp() returns, the only
 * system calls this process makes are:
 *   - noNewPrivileges true: execveat(shim fd, "", ..., AT_EMPTY_PATH), which the filter lets through by a
 *     rule berth puts in front of the profile (lib/runtime/seccomp/exec-shim.ts), then the shim's
 *     execve of the program, which the profile must allow (as under runc);
 *   - noNewPrivileges false: a filter can only be loaded with CAP_SYS_ADMIN, which the process may not
 *     keep (runc loads it before dropping uid and capabilities, and then makes those calls and more under
 *     it). Here uid, groups and capabilities are already final except that CAP_SYS_ADMIN stayed in the
 *     permitted set: one capset() raises it, seccomp() loads, and one capset() drops it, so the calls after
 *     the filter are that one capset (only when the process's own sets lack CAP_SYS_ADMIN), then the
 *     execveat and execve above;
 *   - when either exec fails: the error report (send on the sync socket or write to stderr) and exit_group.
 */
__attribute__((noreturn)) static void exec_program(struct plan *p, char *exe) {
  if (p->seccomp) {
    struct __user_cap_data_struct now[2], raised[2];
    const uint32_t admin = 1U << CAP_SYS_ADMIN; /* < 32: in the first word */
    bool raise = false;
    if (!p->no_new_privs) {
      if (caps_get(now) != 0) sync_error(p, STEP_SECCOMP, errno, -1, "capget");
      raise = !(now[0].effective & admin);
      memcpy(raised, now, sizeof raised);
      raised[0].effective |= admin;
      if (raise && caps_set(raised) != 0) sync_error(p, STEP_SECCOMP, errno, -1, "CAP_SYS_ADMIN to load the filter without noNewPrivileges");
      if (needs_admin_for_filter(p)) now[0].permitted &= ~admin;
    }
    struct sock_fprog prog = {.len = (unsigned short)(p->seccomp_len / sizeof(struct sock_filter)),
                              .filter = (struct sock_filter *)p->seccomp};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->seccomp_flags, &prog) != 0)
      sync_error(p, STEP_SECCOMP, errno, -1, NULL);
    /* from here on: nothing but what the comment above lists */
    if (raise && caps_set(now) != 0) sync_error(p, STEP_CAPS, errno, -1, "capset after the seccomp filter");
  }
  /* The shim, not the program: /proc/self/exe of the process is then the sealed shim, never the host's
     node (native/src/exec_shim.c says why). Arguments as longs: the filter compares all 64 bits. */
  p->exec_argv[0] = exe;
  syscall(SYS_execveat, (long)p->exec_shim_fd, "", p->exec_argv, p->env, (long)AT_EMPTY_PATH);
  sync_error(p, STEP_EXEC, errno, -1, exe);
}

void finish_and_exec(struct plan *p, const char *hook_state) {
  int fifo = p->fifo_fd;
  if (p->hostname && sethostname(p->hostname, strlen(p->hostname)) != 0)
    sync_error(p, STEP_HOSTNAME, errno, -1, p->hostname);
  if (p->domainname && setdomainname(p->domainname, strlen(p->domainname)) != 0)
    sync_error(p, STEP_DOMAINNAME, errno, -1, p->domainname);
  if (p->terminal) {
    setup_console(p);
  } else {
    for (int fd = 0; fd < 3; fd++)
      if (p->stdio[fd] >= 0 && p->stdio[fd] != fd && dup3(p->stdio[fd], fd, 0) < 0)
        sync_error(p, STEP_STDIO, errno, fd, NULL);
  }
  if (p->setsid && !p->terminal) setsid();
  if (p->has_oom) write_oom_score(p);
  if (p->personality >= 0 && personality((unsigned long)p->personality) < 0)
    sync_error(p, STEP_PERSONALITY, errno, -1, NULL);
  set_rlimits(p);
  set_identity(p);
  enter_cwd(p);
  if (p->umask >= 0) umask((mode_t)p->umask);
  char *exe = lookup(p);
  if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) sync_error(p, STEP_NNP, errno, -1, NULL);
  /* Nothing beyond 0-2 and the preserved fds may reach the container. */
  /* Node marks its own 0-2 close-on-exec: clear it, or the program starts without stdio. The shim's fd
     stays close-on-exec wherever it is: the shim runs from it, the program never sees it. */
  for (int fd = 0; fd < 3 + p->preserve_fds; fd++)
    if (fd != p->exec_shim_fd) fcntl(fd, F_SETFD, 0);
  if (syscall(SYS_close_range, 3 + p->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
    sync_error(p, STEP_FDS, errno, -1, "close_range");
  if (sync_send(p->sync_fd, MSG_READY, 0, 0, 0, NULL, 0) != 0) _exit(126);
  /* `create` has returned by now; for `run` the parent still reads until exec closes the socket */
  if (fifo >= 0) p->ready = true;
  if (fifo >= 0) wait_for_start(p, fifo);
  run_hooks(p, p->start_hooks, p->nstart_hooks, hook_state, "hooks.startContainer");
  exec_program(p, exe);
}
