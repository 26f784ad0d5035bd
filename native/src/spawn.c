/*
 * native.spawn(planBytes): decodes the launch plan (lib/runtime/plan-codec.ts, plan_decode.c) into C
 * memory, then forks stage 1 of the bootstrap. Everything the child needs is allocated before the fork;
 * the child runs no JavaScript.
 */
#include "bootstrap.h"
#include "sync.h"
#include "exec_shim_fd.h"
#include "napi_util.h"
#include "plan_decode.h"
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
  struct plan_arena arena;
  struct plan *p;
  void *stack;
};

static void free_launch(struct vfork_launch *l) {
  for (int i = 0; i < l->p->ngo_payloads; i++) munmap(l->p->go_payloads[i], l->p->go_payload_lens[i]);
  if (l->stack) give_back_stack(l->stack);
  plan_arena_free(&l->arena);
  free(l);
}

static int vfork_child(void *arg) {
  struct plan *p = arg;
  bootstrap_reset_signals();
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
      bootstrap_reset_signals();
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
static bool start_vfork(struct plan_arena *arena, struct plan *p) {
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
  l->arena = *arena;
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
  void *bytes;
  size_t len;
  if (argc < 1 || napi_get_buffer_info(env, argv[0], &bytes, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "spawn: expected the launch plan's bytes (a Buffer)");
    return NULL;
  }
  struct plan_arena arena = {0};
  char error[256];
  struct plan *p = plan_decode(bytes, len, &arena, error, sizeof error);
  if (!p) {
    /* The plan is encoded by lib/runtime/plan-codec.ts: a mistake here is a bug there, not user input. */
    napi_throw_type_error(env, NULL, error);
    return NULL;
  }
  p->exec_shim_fd = shim_fd;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  bool direct = bootstrap_is_direct(p);
  if (direct && !p->exec_fifo && start_vfork(&arena, p)) {
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
  pid_t pid = bootstrap_fork(p, &direct);
  int err = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  plan_arena_free(&arena);
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

static napi_value js_exec_shim_fd(napi_env env, napi_callback_info info) {
  int fd = exec_shim_fd();
  if (fd < 0) return throw_errno(env, errno, "exec shim memfd", NULL);
  return make_int(env, fd);
}

void berth_init_exec_shim(napi_env env, napi_value exports) {
  export_fn(env, exports, "execShimFd", js_exec_shim_fd);
}

void berth_init_spawn(napi_env env, napi_value exports) {
  export_fn(env, exports, "spawn", js_spawn);
}
