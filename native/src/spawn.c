/*
 * native.spawn(plan): copies the launch plan from JS into C memory, then forks stage 1 of the
 * bootstrap. Everything the child needs is allocated before the fork; the child runs no JavaScript.
 */
#include "bootstrap.h"
#include "sync.h"
#include "exec_shim_fd.h"
#include "napi_util.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Every allocation of one plan is recorded, so the parent frees it all after the fork. */
typedef struct {
  napi_env env;
  bool failed;
  char error[256];
  void **allocs;
  size_t nallocs, cap;
} parser;

static void *keep(parser *ps, void *ptr) {
  if (!ptr) return NULL;
  if (ps->nallocs == ps->cap) {
    ps->cap = ps->cap ? ps->cap * 2 : 64;
    ps->allocs = realloc(ps->allocs, ps->cap * sizeof(void *));
  }
  ps->allocs[ps->nallocs++] = ptr;
  return ptr;
}

static void *zalloc(parser *ps, size_t n, size_t size) { return keep(ps, calloc(n ? n : 1, size)); }

static void free_all(parser *ps) {
  for (size_t i = 0; i < ps->nallocs; i++) free(ps->allocs[i]);
  free(ps->allocs);
}

static char *string_of(parser *ps, napi_value v, bool *ok) { return keep(ps, arg_string(ps->env, v, ok)); }

static void fail(parser *ps, const char *field, const char *what) {
  if (!ps->failed) {
    ps->failed = true;
    snprintf(ps->error, sizeof ps->error, "plan.%s: %s", field, what);
  }
}

/* One lookup per field (a missing property reads as undefined): the plan has a few hundred fields. */
static napi_value prop(parser *ps, napi_value obj, const char *name) {
  napi_value v = NULL;
  if (napi_get_named_property(ps->env, obj, name, &v) != napi_ok || !v || is_nullish(ps->env, v)) return NULL;
  return v;
}

static char *str(parser *ps, napi_value obj, const char *name) {
  napi_value v = prop(ps, obj, name);
  if (!v) return NULL;
  bool ok;
  char *s = string_of(ps, v, &ok);
  if (!ok) fail(ps, name, "expected a string");
  return s;
}

static int64_t num(parser *ps, napi_value obj, const char *name, int64_t dflt) {
  napi_value v = prop(ps, obj, name);
  if (!v) return dflt;
  int64_t out;
  if (!arg_int64(ps->env, v, &out)) fail(ps, name, "expected a number");
  return out;
}

static bool flag(parser *ps, napi_value obj, const char *name) {
  napi_value v = prop(ps, obj, name);
  bool b = false;
  if (v && napi_get_value_bool(ps->env, v, &b) != napi_ok) fail(ps, name, "expected a boolean");
  return b;
}

static uint64_t u64(parser *ps, napi_value obj, const char *name) {
  napi_value v = prop(ps, obj, name);
  if (!v) return 0;
  uint64_t out = 0;
  bool lossless;
  if (napi_get_value_bigint_uint64(ps->env, v, &out, &lossless) != napi_ok) fail(ps, name, "expected a bigint");
  return out;
}

static uint32_t length(parser *ps, napi_value arr) {
  uint32_t n = 0;
  if (arr) napi_get_array_length(ps->env, arr, &n);
  return n;
}

static napi_value elem(parser *ps, napi_value arr, uint32_t i) {
  napi_value v;
  napi_get_element(ps->env, arr, i, &v);
  return v;
}

/* A NULL-terminated string vector (for execve), after `lead` empty slots. */
static char **strv_after(parser *ps, napi_value obj, const char *name, int *count, uint32_t lead) {
  napi_value arr = prop(ps, obj, name);
  uint32_t n = length(ps, arr);
  char **out = (char **)zalloc(ps, n + lead + 1, sizeof(char *)) + lead;
  for (uint32_t i = 0; i < n; i++) {
    bool ok;
    out[i] = string_of(ps, elem(ps, arr, i), &ok);
    if (!ok || !out[i]) fail(ps, name, "expected strings");
  }
  if (count) *count = (int)n;
  return out;
}

static char **strv(parser *ps, napi_value obj, const char *name, int *count) { return strv_after(ps, obj, name, count, 0); }

static struct hook_step *hooks(parser *ps, napi_value obj, const char *name, int *count) {
  napi_value arr = prop(ps, obj, name);
  uint32_t n = length(ps, arr);
  struct hook_step *h = zalloc(ps, n ? n : 1, sizeof *h);
  for (uint32_t i = 0; i < n; i++) {
    napi_value o = elem(ps, arr, i);
    h[i].path = str(ps, o, "path");
    h[i].args = strv(ps, o, "args", NULL);
    h[i].env = strv(ps, o, "env", NULL);
    h[i].timeout = (int)num(ps, o, "timeout", 0);
    h[i].field_index = (int)num(ps, o, "index", (int64_t)i);
  }
  *count = (int)n;
  return h;
}

static void parse_plan(parser *ps, napi_value o, struct plan *p) {
  p->clone_flags = (int)num(ps, o, "cloneFlags", 0);
  p->new_userns = flag(ps, o, "newUserns");
  napi_value joins = prop(ps, o, "join");
  p->njoin = (int)length(ps, joins);
  p->join_types = zalloc(ps, (size_t)p->njoin + 1, sizeof(int));
  p->join_paths = zalloc(ps, (size_t)p->njoin + 1, sizeof(char *));
  for (int i = 0; i < p->njoin; i++) {
    napi_value j = elem(ps, joins, (uint32_t)i);
    p->join_types[i] = (int)num(ps, j, "type", 0);
    p->join_paths[i] = str(ps, j, "path");
  }
  p->time_offsets = str(ps, o, "timeOffsets");
  p->sync_fd = (int)num(ps, o, "syncFd", -1);

  p->rootfs = str(ps, o, "rootfs");
  p->root_propagation = (unsigned long)num(ps, o, "rootPropagation", 0);
  p->no_pivot = flag(ps, o, "noPivot");
  p->readonly_root = flag(ps, o, "readonlyRoot");
  p->pause_after_mounts = flag(ps, o, "pauseAfterMounts");
  napi_value mounts = prop(ps, o, "mounts");
  p->nmounts = (int)length(ps, mounts);
  p->mounts = zalloc(ps, (size_t)p->nmounts + 1, sizeof *p->mounts);
  for (int i = 0; i < p->nmounts; i++) {
    napi_value m = elem(ps, mounts, (uint32_t)i);
    struct mount_step *ms = &p->mounts[i];
    ms->source = str(ps, m, "source");
    ms->target = str(ps, m, "target");
    ms->fstype = str(ps, m, "fstype");
    ms->data = str(ps, m, "data");
    ms->flags = (unsigned long)num(ps, m, "flags", 0);
    ms->bind = flag(ps, m, "bind");
    ms->file = flag(ps, m, "file");
    ms->attr_set = u64(ps, m, "attrSet");
    ms->attr_clr = u64(ps, m, "attrClr");
    ms->field_index = (int)num(ps, m, "index", -1);
    napi_value props = prop(ps, m, "propagation");
    ms->npropagation = (int)length(ps, props);
    if (ms->npropagation > 4) ms->npropagation = 4;
    for (int j = 0; j < ms->npropagation; j++) {
      int64_t f;
      arg_int64(ps->env, elem(ps, props, (uint32_t)j), &f);
      ms->propagation[j] = (unsigned long)f;
    }
    if (!ms->target) fail(ps, "mounts", "target missing");
  }
  napi_value devices = prop(ps, o, "devices");
  p->ndevices = (int)length(ps, devices);
  p->devices = zalloc(ps, (size_t)p->ndevices + 1, sizeof *p->devices);
  for (int i = 0; i < p->ndevices; i++) {
    napi_value d = elem(ps, devices, (uint32_t)i);
    struct device_step *ds = &p->devices[i];
    ds->path = str(ps, d, "path");
    ds->mode = (mode_t)num(ps, d, "mode", 0);
    ds->major = (unsigned)num(ps, d, "major", 0);
    ds->minor = (unsigned)num(ps, d, "minor", 0);
    ds->uid = (uid_t)num(ps, d, "uid", 0);
    ds->gid = (gid_t)num(ps, d, "gid", 0);
    ds->bind = flag(ps, d, "bind");
    ds->field_index = (int)num(ps, d, "index", -1);
    if (!ds->path) fail(ps, "devices", "path missing");
  }
  p->default_links = flag(ps, o, "defaultLinks");
  p->masked = strv(ps, o, "maskedPaths", &p->nmasked);
  p->readonly = strv(ps, o, "readonlyPaths", &p->nreadonly);
  p->hostname = str(ps, o, "hostname");
  p->domainname = str(ps, o, "domainname");
  p->sysctl_keys = strv(ps, o, "sysctlPaths", &p->nsysctl);
  int nvalues = 0;
  p->sysctl_values = strv(ps, o, "sysctlValues", &nvalues);
  if (nvalues != p->nsysctl) fail(ps, "sysctlValues", "length differs from sysctlPaths");

  /* one slot in front for the exec shim's first argument, the path of the program (set in the child) */
  p->args = strv_after(ps, o, "args", NULL, 1);
  p->exec_argv = p->args - 1;
  if (!p->args[0]) fail(ps, "args", "empty");
  p->env = strv(ps, o, "env", NULL);
  p->cwd = str(ps, o, "cwd");
  if (!p->cwd) p->cwd = keep(ps, strdup("/"));
  p->uid = (uid_t)num(ps, o, "uid", 0);
  p->gid = (gid_t)num(ps, o, "gid", 0);
  napi_value groups = prop(ps, o, "additionalGids");
  p->ngroups = (int)length(ps, groups);
  p->groups = zalloc(ps, (size_t)p->ngroups + 1, sizeof(gid_t));
  for (int i = 0; i < p->ngroups; i++) {
    int64_t g;
    arg_int64(ps->env, elem(ps, groups, (uint32_t)i), &g);
    p->groups[i] = (gid_t)g;
  }
  p->set_groups = flag(ps, o, "setGroups");
  p->umask = (int)num(ps, o, "umask", -1);
  napi_value rl = prop(ps, o, "rlimits");
  p->nrlimits = (int)length(ps, rl);
  p->rlimits = zalloc(ps, (size_t)p->nrlimits + 1, sizeof *p->rlimits);
  for (int i = 0; i < p->nrlimits; i++) {
    napi_value r = elem(ps, rl, (uint32_t)i);
    p->rlimits[i].resource = (int)num(ps, r, "resource", 0);
    p->rlimits[i].soft = u64(ps, r, "soft");
    p->rlimits[i].hard = u64(ps, r, "hard");
  }
  napi_value caps = prop(ps, o, "capabilities");
  p->has_caps = caps != NULL;
  if (caps) {
    p->cap_bounding = u64(ps, caps, "bounding");
    p->cap_effective = u64(ps, caps, "effective");
    p->cap_inheritable = u64(ps, caps, "inheritable");
    p->cap_permitted = u64(ps, caps, "permitted");
    p->cap_ambient = u64(ps, caps, "ambient");
  }
  p->no_new_privs = flag(ps, o, "noNewPrivileges");
  napi_value oom = prop(ps, o, "oomScoreAdj");
  p->has_oom = oom != NULL;
  p->oom_score_adj = (int)num(ps, o, "oomScoreAdj", 0);
  p->personality = (long)num(ps, o, "personality", -1);
  napi_value sc = prop(ps, o, "seccomp");
  if (sc) {
    void *data;
    size_t len;
    if (napi_get_buffer_info(ps->env, sc, &data, &len) != napi_ok || len % 8) {
      fail(ps, "seccomp", "expected a Buffer of sock_filter");
    } else {
      p->seccomp = zalloc(ps, len, 1);
      memcpy(p->seccomp, data, len);
      p->seccomp_len = len;
    }
  }
  p->seccomp_flags = (unsigned)num(ps, o, "seccompFlags", 0);
  p->terminal = flag(ps, o, "terminal");
  p->console_socket = (int)num(ps, o, "consoleSocketFd", -1);
  p->console_rows = (unsigned short)num(ps, o, "consoleRows", 0);
  p->console_cols = (unsigned short)num(ps, o, "consoleCols", 0);
  p->exec_fifo = str(ps, o, "execFifo");
  p->preserve_fds = (int)num(ps, o, "preserveFds", 0);
  napi_value stdio = prop(ps, o, "stdio");
  for (int i = 0; i < 3; i++) {
    p->stdio[i] = -1;
    if (stdio && (uint32_t)i < length(ps, stdio)) {
      int32_t fd;
      if (arg_int32(ps->env, elem(ps, stdio, (uint32_t)i), &fd)) p->stdio[i] = fd;
    }
  }
  p->create_hooks = hooks(ps, o, "createContainerHooks", &p->ncreate_hooks);
  p->start_hooks = hooks(ps, o, "startContainerHooks", &p->nstart_hooks);
  p->setsid = flag(ps, o, "setsid");
}

/* The child keeps nothing of Node's signal handling: every handler back to default, nothing blocked. */
static void reset_signals(void) {
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &dfl, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * The vfork launch (`run`: no exec fifo, nothing to join, no user or time namespace). The container
 * process is cloned with CLONE_VM | CLONE_VFORK, as posix_spawn does: it borrows this process's memory
 * until it execs instead of copying Node's page tables, and its execve has no copy to tear down. Those
 * two were most of a container's start-up cost. CLONE_VFORK suspends the calling thread until the child
 * execs or exits, so the clone is made from a short-lived thread of its own, never Node's: the event
 * loop keeps answering the child over the sync socket. The suspended thread is also why the child may use
 * the C library at all: errno and the other thread-local state it touches are that idle thread's.
 * Not used with an exec fifo (`create`): a created container waits for `start` for any length of time,
 * and meanwhile nothing of the caller's live memory should stay mapped into it.
 */
enum { CHILD_STACK = 1 << 20, POOLED_STACKS = 16 };

/* Stacks are kept for the next launch: mapping and unmapping one per container takes the memory map's
   lock for writing, which every thread of a large Node process contends for. */
static pthread_mutex_t stack_lock = PTHREAD_MUTEX_INITIALIZER;
static void *stack_pool[POOLED_STACKS];
static int nstack_pool;

static void *take_stack(void) {
  void *stack = NULL;
  pthread_mutex_lock(&stack_lock);
  if (nstack_pool > 0) stack = stack_pool[--nstack_pool];
  pthread_mutex_unlock(&stack_lock);
  if (stack) return stack;
  stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return NULL;
  /* a guard page: an overflowing child would otherwise write into whatever of Node's lies below */
  if (mprotect(stack, 4096, PROT_NONE) != 0) {
    munmap(stack, CHILD_STACK);
    return NULL;
  }
  return stack;
}

static void give_back_stack(void *stack) {
  pthread_mutex_lock(&stack_lock);
  bool kept = nstack_pool < POOLED_STACKS;
  if (kept) stack_pool[nstack_pool++] = stack;
  pthread_mutex_unlock(&stack_lock);
  if (!kept) munmap(stack, CHILD_STACK);
}

struct vfork_launch {
  parser ps;
  struct plan *p;
  void *stack;
};

static void free_launch(struct vfork_launch *l) {
  for (int i = 0; i < l->p->ngo_payloads; i++) munmap(l->p->go_payloads[i], l->p->go_payload_lens[i]);
  if (l->stack) give_back_stack(l->stack);
  free_all(&l->ps);
  free(l->p);
  free(l);
}

static int vfork_child(void *arg) {
  struct plan *p = arg;
  reset_signals();
  direct_main(p);
}

/*
 * PR_SET_DUMPABLE belongs to the memory map, and a vfork child has Node's until it execs. Once the child has
 * dropped to the container's uid and capabilities, a process that shares them and sees its pid (the host's
 * pid namespace: a hostPID container, or a container without a pid namespace of its own) would pass the
 * ptrace checks on a dumpable map: /proc/<child>/exe is the host's node and /proc/<child>/mem is this
 * process's memory. So the map is not dumpable while any vfork child may still be running on it, and is
 * given back its own setting when the last one has exec'd.
 */
static pthread_mutex_t dumpable_lock = PTHREAD_MUTEX_INITIALIZER;
static int vfork_children;
static int dumpable_before;

static void hide_memory_map(void) {
  pthread_mutex_lock(&dumpable_lock);
  if (vfork_children++ == 0) {
    dumpable_before = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  }
  pthread_mutex_unlock(&dumpable_lock);
}

static void restore_memory_map(void) {
  pthread_mutex_lock(&dumpable_lock);
  if (--vfork_children == 0 && dumpable_before > 0) prctl(PR_SET_DUMPABLE, dumpable_before, 0, 0, 0);
  pthread_mutex_unlock(&dumpable_lock);
}

static void *vfork_thread(void *arg) {
  struct vfork_launch *l = arg;
  struct plan *p = l->p;
  int flags = (p->clone_flags & ~CLONE_NEWCGROUP) | CLONE_VM | CLONE_VFORK | CLONE_PARENT_SETTID | SIGCHLD;
  hide_memory_map();
  pid_t pid = clone(vfork_child, (char *)l->stack + CHILD_STACK, flags, p, &p->child_pid);
  restore_memory_map();
  if (pid < 0) {
    /* The kernel refused the namespace flags: stage 1 (a plain fork, no CLONE_VM) unshares them one
       step at a time and reports which failed, as on the non-vfork path. It must be reaped here. */
    p->report_pid = false;
    pid_t stage1 = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
    if (stage1 == 0) {
      reset_signals();
      prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
      stage1_main(p);
      _exit(127);
    }
    if (stage1 < 0) {
      sync_send(p->sync_fd, MSG_ERROR, STEP_CLONE, errno, -1, "clone", 5);
    } else {
      while (waitpid(stage1, NULL, __WALL) < 0 && errno == EINTR) {}
    }
  }
  /* The child has exec'd or exited: its stack, payloads and plan are free to go. */
  close(p->sync_fd);
  free_launch(l);
  return NULL;
}

/* Starts the vfork launch; false (nothing started, nothing to free) when a thread or stack is refused. */
static bool start_vfork(parser *ps, struct plan *p) {
  struct vfork_launch *l = calloc(1, sizeof *l);
  if (!l) return false;
  l->stack = take_stack();
  /* the thread owns a copy of the sync fd: the caller closes its own as soon as spawn returns */
  int fd = l->stack ? fcntl(p->sync_fd, F_DUPFD_CLOEXEC, 3) : -1;
  if (fd < 0) {
    if (l->stack) give_back_stack(l->stack);
    free(l);
    return false;
  }
  int caller_fd = p->sync_fd;
  p->sync_fd = fd;
  p->report_pid = true;
  l->ps = *ps;
  l->p = p;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  /* the thread starts with every signal blocked (the caller's mask now): the child inherits that mask */
  pthread_t t;
  int rc = pthread_create(&t, &attr, vfork_thread, l);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    /* the caller forks instead, with the plan as it was */
    p->sync_fd = caller_fd;
    p->report_pid = false;
    close(fd);
    give_back_stack(l->stack);
    free(l);
    return false;
  }
  return true;
}

static napi_value js_spawn(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int shim_fd = exec_shim_fd();
  if (shim_fd < 0) return throw_errno(env, errno, "exec shim memfd", NULL);
  parser ps = {.env = env};
  struct plan *p = calloc(1, sizeof *p);
  parse_plan(&ps, argv[0], p);
  p->exec_shim_fd = shim_fd;
  if (ps.failed) {
    /* The plan is built by lib/runtime/plan.ts: a mistake here is a bug there, not user input. */
    free_all(&ps);
    free(p);
    napi_throw_type_error(env, NULL, ps.error);
    return NULL;
  }
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  /*
   * Direct: nothing to join, no user namespace (the parent must map it before the rest is created), no
   * time namespace (clone() has no flag for it): clone the container process itself with the namespace
   * flags, skipping stage 1 and its second copy of Node's address space. The cgroup namespace still waits
   * for the parent's GO (stage 2 unshares it once placed). If the kernel refuses the flags, stage 1 below
   * unshares them one step at a time and reports which step failed.
   */
  bool direct = p->njoin == 0 && !p->new_userns && !p->time_offsets;
  if (direct && !p->exec_fifo && start_vfork(&ps, p)) {
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    /* pid 0: the child reports its pid over the sync socket (MSG_PID) */
    napi_value result;
    napi_create_object(env, &result);
    napi_set_named_property(env, result, "pid", make_int(env, 0));
    napi_value yes;
    napi_get_boolean(env, true, &yes);
    napi_set_named_property(env, result, "direct", yes);
    return result;
  }
  pid_t pid = -1;
  if (direct) {
    /* The raw syscall, not fork(): glibc's fork runs the atfork handlers that libuv and OpenSSL registered,
       which close and reopen descriptors in the child. After it, the child calls no malloc. */
    pid = (pid_t)syscall(SYS_clone, (p->clone_flags & ~CLONE_NEWCGROUP) | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid == 0) {
      reset_signals();
      /* Not dumpable until it execs the sealed shim (exec_shim_fd.c): until then its /proc/<pid>/exe is
         the host's node and its memory a copy of Node's, neither for a container to open (CVE-2019-5736). */
      prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
      direct_main(p);
    }
    if (pid < 0) direct = false;
  }
  if (!direct) pid = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid == 0) {
    reset_signals();
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    stage1_main(p);
    _exit(127);
  }
  int err = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  free_all(&ps);
  free(p);
  if (pid < 0) return throw_errno(env, err, "fork", NULL);
  napi_value result;
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "pid", make_int(env, pid));
  napi_value is_direct;
  napi_get_boolean(env, direct, &is_direct);
  /* direct: pid is the container process, which sends no MSG_PID */
  napi_set_named_property(env, result, "direct", is_direct);
  return result;
}

void berth_init_spawn(napi_env env, napi_value exports) {
  export_fn(env, exports, "spawn", js_spawn);
}
