// The native front-end (issue #13): what clients exec as `berth` and as each CNI plugin. It hands the call to
// a warm berth server over <root>/serve.sock (argv, env, cwd and its descriptors by SCM_RIGHTS) and exits with
// the status the server sends; with no server, or any doubt, it execs the cold Node entry point with the same
// argv, env, cwd and descriptors, so behaviour never depends on the server being up.
// The wire protocol is the one lib/server/protocol.ts describes: change both together.
//
// Built once per program name by scripts/frontends.js with these compiled-in strings:
//   BERTH_PROGRAM   "berth", "berth-bridge", ...: sent to the server, and names the cold entry bin/<program>
//   BERTH_HOME_DIR  the installation (package root with bin/, dist/, node_modules/); env BERTH_HOME overrides
//   BERTH_NODE_PATH the node binary; env BERTH_NODE overrides
//   BERTH_BUILD_ID  dist/build-id of the same build: a server of another build answers GO_COLD
// so a copy in /opt/cni/bin or named as containerd's BinaryName still finds its installation.
#include "bootstrap.h"
#include "exec_shim_fd.h"
#include "plan_decode.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef BERTH_PROGRAM
#error "BERTH_PROGRAM must be defined (scripts/frontends.js)"
#endif

#define MAGIC 0x31545242u // "BRT1"
#define PROTOCOL_VERSION 1u
#define FRAME_EXIT 1u
#define FRAME_GO_COLD 2u
// the warm launch (issue #13), server -> front-end: PLAN (i32 exec shim fd number, i32 the server's fd number
// of a ready-made network namespace or -1, plan bytes),
// WAIT (i32 pid: wait for it, answer STATUS); front-end -> server: LAUNCHED (i32 pid, u32 direct, the sync
// socket's other end by SCM_RIGHTS; pid -1 and no fd when nothing was forked), STATUS (i32 exit status)
#define FRAME_PLAN 3u
#define FRAME_LAUNCHED 4u
#define FRAME_WAIT 5u
#define FRAME_STATUS 6u
#define DEFAULT_ROOT "/run/berth"
#define MAX_FDS 253 // SCM_MAX_FD
#define MAX_FRAME (1u << 20)

extern char **environ;

static int debug; // --debug before the command: say why a call went cold
static pid_t server_pid; // SO_PEERCRED of the server that answered: whose descriptors PLAN may name

/** Replaces this process with the Node entry point: the same argv, env, cwd and descriptors. */
static void __attribute__((noreturn)) go_cold(char **argv, const char *why) {
  if (debug && why) fprintf(stderr, "berth: cold path: %s\n", why);
  const char *home = getenv("BERTH_HOME");
  const char *node = getenv("BERTH_NODE");
  if (!home || !*home) home = BERTH_HOME_DIR;
  if (!node || !*node) node = BERTH_NODE_PATH;
  int argc = 0;
  while (argv[argc]) argc++;
  char entry[4096];
  if (snprintf(entry, sizeof entry, "%s/bin/%s", home, BERTH_PROGRAM) >= (int)sizeof entry) {
    fprintf(stderr, "berth: installation path too long: %s\n", home);
    exit(127);
  }
  // node would start and fail with a stack trace: say in one line which installation is missing
  if (access(entry, R_OK) < 0) {
    fprintf(stderr, "berth: cannot run %s: %s (set BERTH_HOME)\n", entry, strerror(errno));
    exit(127);
  }
  char **args = calloc((size_t)argc + 2, sizeof *args);
  if (!args) {
    fprintf(stderr, "berth: out of memory\n");
    exit(127);
  }
  args[0] = (char *)node;
  args[1] = entry;
  for (int i = 1; i < argc; i++) args[i + 1] = argv[i];
  execve(node, args, environ);
  fprintf(stderr, "berth: cannot run %s %s: %s (set BERTH_HOME / BERTH_NODE)\n", node, entry, strerror(errno));
  exit(127);
}

/** True for -name / --name / -name=X / --name=X. */
static int is_flag(const char *arg, const char *name, const char **value) {
  if (arg[0] != '-') return 0;
  arg += arg[1] == '-' ? 2 : 1;
  size_t n = strlen(name);
  if (strncmp(arg, name, n) != 0) return 0;
  if (arg[n] == '=') {
    *value = arg + n + 1;
    return 1;
  }
  *value = NULL;
  return arg[n] == '\0';
}

/**
 * The berth CLI's options that matter here, parsed as lib/util/command-line.ts does: global flags up to the
 * command (--root, --debug), then --preserve-fds anywhere after it up to `--`. -1 preserve means invalid.
 */
static void parse_cli(char **argv, const char **root, long *preserve) {
  static const char *global_values[] = {"root", "log", "log-format", "criu", "rootless", NULL};
  const char *v;
  int i = 1;
  for (; argv[i]; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0 || a[0] != '-' || strcmp(a, "-") == 0) break;
    if (is_flag(a, "debug", &v)) {
      debug = !v || (strcmp(v, "false") != 0 && strcmp(v, "0") != 0);
      continue;
    }
    for (const char **g = global_values; *g; g++) {
      if (!is_flag(a, *g, &v)) continue;
      if (!v && argv[i + 1]) v = argv[++i];
      if (v && strcmp(*g, "root") == 0) *root = v;
      break;
    }
  }
  for (; argv[i] && strcmp(argv[i], "--") != 0; i++) {
    if (!is_flag(argv[i], "preserve-fds", &v)) continue;
    if (!v) v = argv[i + 1] ? argv[++i] : "";
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    *preserve = (*v && !*end && !errno && n >= 0 && n <= MAX_FDS - 3) ? n : -1;
  }
}

struct buf {
  char *data;
  size_t len, cap;
};

static int put(struct buf *b, const void *p, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) return -1;
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

static int put_u32(struct buf *b, uint32_t v) {
  unsigned char le[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff};
  return put(b, le, 4);
}

static int put_str(struct buf *b, const char *s) {
  size_t n = strlen(s);
  return n > UINT32_MAX || put_u32(b, (uint32_t)n) || put(b, s, n);
}

static uint32_t get_u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/** Header + payload of the request (lib/server/protocol.ts), for the descriptors in fds. NULL on overflow. */
static struct buf *encode_request(char **argv, const int *fds, int nfds) {
  static struct buf b;
  char cwd[4096];
  if (!getcwd(cwd, sizeof cwd)) return NULL;
  int argc = 0, envc = 0;
  while (argv[argc]) argc++;
  while (environ[envc]) envc++;
  int bad = put_u32(&b, MAGIC) || put_u32(&b, PROTOCOL_VERSION) || put_u32(&b, 0) || put_str(&b, BERTH_BUILD_ID) ||
            put_str(&b, BERTH_PROGRAM) || put_str(&b, cwd) || put_u32(&b, (uint32_t)(argc - 1));
  for (int i = 1; i < argc && !bad; i++) bad = put_str(&b, argv[i]);
  bad = bad || put_u32(&b, (uint32_t)envc);
  for (int i = 0; i < envc && !bad; i++) bad = put_str(&b, environ[i]);
  bad = bad || put_u32(&b, (uint32_t)nfds);
  for (int i = 0; i < nfds && !bad; i++) bad = put_u32(&b, (uint32_t)fds[i]);
  if (bad || b.len - 12 > UINT32_MAX) return NULL;
  uint32_t payload = (uint32_t)(b.len - 12);
  unsigned char le[4] = {payload & 0xff, (payload >> 8) & 0xff, (payload >> 16) & 0xff, (payload >> 24) & 0xff};
  memcpy(b.data + 8, le, 4);
  return &b;
}

/** Connects to <root>/serve.sock; -1 when no server can answer (absent, refused, not root's). */
static int connect_server(const char *root) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (snprintf(addr.sun_path, sizeof addr.sun_path, "%s/serve.sock", root) >= (int)sizeof addr.sun_path) return -1;
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
    close(s);
    return -1;
  }
  // our descriptors go only to a server run by root or by ourselves, never to whoever bound a socket there
  struct ucred peer;
  socklen_t len = sizeof peer;
  if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0 || (peer.uid != 0 && peer.uid != geteuid())) {
    close(s);
    return -1;
  }
  server_pid = peer.pid;
  return s;
}

/** Sends the request in one sendmsg carrying the descriptors; the rest of a long payload follows. */
static int send_request(int s, const struct buf *req, const int *fds, int nfds) {
  union {
    char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
    struct cmsghdr align;
  } control;
  struct iovec iov = {.iov_base = req->data, .iov_len = req->len};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  if (nfds > 0) {
    msg.msg_control = control.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
  }
  ssize_t n;
  do n = sendmsg(s, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) return -1;
  for (size_t off = (size_t)n; off < req->len; off += (size_t)n) {
    do n = send(s, req->data + off, req->len - off, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n <= 0) return -1;
  }
  return 0;
}

/** Reads exactly n bytes; -1 on EOF or error. */
static int read_full(int s, void *p, size_t n) {
  for (size_t off = 0; off < n;) {
    ssize_t r = read(s, (char *)p + off, n - off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    off += (size_t)r;
  }
  return 0;
}

/** One frame to the server, with fd (when >= 0) by SCM_RIGHTS. */
static int send_frame(int s, uint32_t type, const int32_t *words, uint32_t nwords, int fd) {
  struct buf b = {0};
  int bad = put_u32(&b, type) || put_u32(&b, nwords * 4);
  for (uint32_t i = 0; i < nwords && !bad; i++) bad = put_u32(&b, (uint32_t)words[i]);
  int rc = bad ? -1 : send_request(s, &b, &fd, fd >= 0 ? 1 : 0);
  free(b.data);
  return rc;
}

// The signals the cold `berth run` forwards to its container. The client signals the process it ran, which
// is this one: from the fork on we catch them, and forward them once we know the pid we wait for (WAIT).
static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
static volatile sig_atomic_t waited_pid, pending_signal;

static void forward_signal(int sig) {
  if (waited_pid > 0) kill((pid_t)waited_pid, sig);
  else pending_signal = sig;
}

static void catch_forwarded(void) {
  struct sigaction sa = {.sa_handler = forward_signal};
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++) sigaction(forwarded[i], &sa, NULL);
}

/** exit(status), unless a signal came that nobody was waiting to forward: then die of it, as cold would. */
static void __attribute__((noreturn)) exit_as_told(int status) {
  int sig = pending_signal;
  if (sig && sig != SIGWINCH) {
    signal(sig, SIG_DFL);
    raise(sig);
  }
  exit(status);
}

/**
 * The network namespace the server made ahead of this launch, opened through its descriptor table; -1 when
 * it named none, or the descriptor is gone or is no network namespace (the clone then makes one itself).
 */
static int open_server_netns(int server_fd) {
  if (server_fd < 0 || server_pid <= 0) return -1;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)server_pid, server_fd);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0 && ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
    close(fd);
    fd = -1;
  }
  return fd;
}

/**
 * Forks the bootstrap from the server's plan, so that the container process is our child (CLONE_PARENT
 * from stage 1), as it is runc's: containerd's shim, a subreaper, expects that. The server answers the sync
 * protocol over the socket end we pass it. Returns -1 when nothing was forked (the server then answers
 * GO_COLD), 1 when it was, -1 when the server cannot be told.
 */
static int launch_plan(int s, const unsigned char *payload, uint32_t len) {
  int32_t failed[2] = {-1, 0};
  if (len < 8) return send_frame(s, FRAME_LAUNCHED, failed, 2, -1);
  int shim_at = (int32_t)get_u32(payload);
  int netns = open_server_netns((int32_t)get_u32(payload + 4));
  char err[256] = "";
  struct plan_arena arena = {0};
  struct plan *p = plan_decode(payload + 8, len - 8, &arena, err, sizeof err);
  if (p) p->netns_fd = netns;
  // the seccomp filter allows execveat on the server's chosen number only: the shim must sit there
  int shim = p && shim_at > 2 && fcntl(shim_at, F_GETFD) < 0 ? exec_shim_fd() : -1;
  int sv[2] = {-1, -1};
  if (shim < 0 || dup3(shim, shim_at, O_CLOEXEC) < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
    if (debug) fprintf(stderr, "berth: warm launch: %s\n", *err ? err : strerror(errno));
    if (netns >= 0) close(netns);
    plan_arena_free(&arena);
    return send_frame(s, FRAME_LAUNCHED, failed, 2, -1);
  }
  p->sync_fd = sv[1];
  p->exec_shim_fd = shim_at;
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);
  bool direct = false;
  pid_t pid = bootstrap_fork(p, &direct);
  if (pid > 0) catch_forwarded(); // still blocked: no signal slips between the fork and the handlers
  sigprocmask(SIG_SETMASK, &old, NULL);
  close(sv[1]);
  close(shim_at);
  if (netns >= 0) close(netns);
  plan_arena_free(&arena);
  int32_t launched[2] = {pid < 0 ? -1 : pid, direct ? 1 : 0};
  int rc = send_frame(s, FRAME_LAUNCHED, launched, 2, pid < 0 ? -1 : sv[0]);
  close(sv[0]);
  if (pid > 0 && !direct) waitpid(pid, NULL, 0); // stage 1 exits once the container process exists
  return rc < 0 ? -1 : pid > 0;
}

/** Waits for our child pid (the container of a foreground run or exec) and reports its status as cold does. */
static int wait_child(int s, const unsigned char *payload, uint32_t len) {
  int32_t status = 255;
  if (len == 4) {
    waited_pid = (sig_atomic_t)get_u32(payload);
    int early = pending_signal;
    pending_signal = 0;
    if (early) kill((pid_t)waited_pid, early);
    int w;
    pid_t pid;
    do pid = waitpid((pid_t)waited_pid, &w, 0);
    while (pid < 0 && errno == EINTR);
    waited_pid = 0;
    if (pid > 0) status = WIFEXITED(w) ? WEXITSTATUS(w) : 128 + WTERMSIG(w);
  }
  return send_frame(s, FRAME_STATUS, &status, 1, -1);
}

int main(int argc, char **argv) {
  if (argc < 1) go_cold(argv, "no argv[0]"); // argv[1] would then be the environment
  const char *no_server = getenv("BERTH_NO_SERVER");
  const char *root = getenv("BERTH_ROOT");
  if (!root || !*root) root = DEFAULT_ROOT;
  long preserve = 0;
  // the runtime names its root on the command line; CNI plugins use BERTH_ROOT or the default
  if (strcmp(BERTH_PROGRAM, "berth") == 0) {
    root = DEFAULT_ROOT;
    parse_cli(argv, &root, &preserve);
  }
  if (no_server && *no_server && strcmp(no_server, "0") != 0) go_cold(argv, NULL);
  if (preserve < 0) go_cold(argv, "invalid --preserve-fds: the cold path reports it");

  int fds[MAX_FDS], nfds = 0;
  struct stat st;
  for (int fd = 0; fd < 3 + preserve; fd++) {
    // a closed stdio or preserved descriptor cannot ride SCM_RIGHTS: let the cold path deal with it
    if (fstat(fd, &st) < 0) go_cold(argv, "a descriptor to pass is closed");
    fds[nfds++] = fd;
  }
  int s = connect_server(root);
  if (s < 0) go_cold(argv, "no server answers");
  struct buf *req = encode_request(argv, fds, nfds);
  if (!req || send_request(s, req, fds, nfds) < 0) go_cold(argv, "cannot send the request");

  int launched = 0; // once a container exists, going cold would start a second one: fail instead
  for (;;) {
  unsigned char head[8];
  if (read_full(s, head, sizeof head) < 0) {
    if (launched) exit_as_told(255);
    go_cold(argv, "server closed the connection before answering");
  }
  uint32_t type = get_u32(head), len = get_u32(head + 4);
  if (len > MAX_FRAME) go_cold(argv, "oversized frame");
  unsigned char *payload = malloc(len ? len : 1);
  if (!payload || read_full(s, payload, len) < 0) go_cold(argv, "truncated frame");
  if (type == FRAME_EXIT && len == 4) exit_as_told((int)get_u32(payload));
  if ((type == FRAME_PLAN && !launched) || type == FRAME_WAIT) {
    int rc = type == FRAME_PLAN ? launch_plan(s, payload, len) : wait_child(s, payload, len);
    if (rc < 0) exit_as_told(255);
    if (type == FRAME_PLAN) launched = rc;
    free(payload);
    continue;
  }
  if (launched) exit_as_told(255);
  if (type == FRAME_GO_COLD) {
    uint32_t n = len >= 4 ? get_u32(payload) : 0;
    if (len < 4 || n > len - 4) go_cold(argv, "malformed GO_COLD frame");
    char why[512];
    snprintf(why, sizeof why, "server: %.*s", (int)n, (const char *)payload + 4);
    go_cold(argv, why);
  }
  go_cold(argv, "unexpected frame from the server");
  }
}
