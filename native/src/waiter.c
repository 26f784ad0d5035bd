/*
 * waitPid(pid, callback): reaps a child without blocking the event loop or a libuv pool thread.
 * One dedicated thread waits on pidfds with epoll; each exit is handed back to JS as
 * callback(exitCode, signal). If the process is not our child, it is reported with code -1.
 */
#include "napi_util.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
  int pidfd;
  int pid;
  napi_threadsafe_function tsfn;
  int code;
  int signal;
} wait_req;

static int epfd = -1;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void *waiter_main(void *arg) {
  (void)arg;
  struct epoll_event evs[32];
  for (;;) {
    int n = epoll_wait(epfd, evs, 32, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return NULL;
    }
    for (int i = 0; i < n; i++) {
      wait_req *r = evs[i].data.ptr;
      epoll_ctl(epfd, EPOLL_CTL_DEL, r->pidfd, NULL);
      siginfo_t si = {0};
      int rc;
      do rc = waitid(P_PIDFD, (id_t)r->pidfd, &si, WEXITED); while (rc != 0 && errno == EINTR);
      if (rc != 0) {
        r->code = -1;
        r->signal = 0;
      } else if (si.si_code == CLD_EXITED) {
        r->code = si.si_status;
        r->signal = 0;
      } else {
        r->code = -1;
        r->signal = si.si_status;
      }
      close(r->pidfd);
      /* call_js frees r on the main thread, maybe before the call below returns: keep tsfn locally */
      napi_threadsafe_function tsfn = r->tsfn;
      napi_call_threadsafe_function(tsfn, r, napi_tsfn_blocking);
      napi_release_threadsafe_function(tsfn, napi_tsfn_release);
    }
  }
  return NULL;
}

static void start_thread(void) {
  epfd = epoll_create1(EPOLL_CLOEXEC);
  pthread_t t;
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&a, 64 * 1024);
  pthread_create(&t, &a, waiter_main, NULL);
  pthread_attr_destroy(&a);
}

static void call_js(napi_env env, napi_value cb, void *ctx, void *data) {
  wait_req *r = data;
  if (env && cb) {
    napi_value argv[2], undef;
    napi_create_int32(env, r->code, &argv[0]);
    napi_create_int32(env, r->signal, &argv[1]);
    napi_get_undefined(env, &undef);
    napi_call_function(env, undef, cb, 2, argv, NULL);
  }
  free(r);
}

static napi_value js_wait_pid(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t pid;
  if (argc < 2 || !arg_int32(env, argv[0], &pid)) {
    napi_throw_type_error(env, NULL, "waitPid(pid, callback)");
    return NULL;
  }
  pthread_once(&once, start_thread);
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) return throw_errno(env, errno, "pidfd_open", NULL);
  wait_req *r = calloc(1, sizeof *r);
  r->pidfd = fd;
  r->pid = pid;
  napi_value name;
  napi_create_string_utf8(env, "berth.waitPid", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[1], NULL, name, 0, 1, NULL, NULL, NULL, call_js, &r->tsfn) != napi_ok) {
    close(fd);
    free(r);
    napi_throw_error(env, NULL, "waitPid: cannot create threadsafe function");
    return NULL;
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = r};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    int err = errno;
    napi_release_threadsafe_function(r->tsfn, napi_tsfn_abort);
    close(fd);
    free(r);
    return throw_errno(env, err, "epoll_ctl", NULL);
  }
  return make_undefined(env);
}

void berth_init_waiter(napi_env env, napi_value exports) {
  export_fn(env, exports, "waitPid", js_wait_pid);
}
