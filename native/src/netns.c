/*
 * newNetns(): a new, empty network namespace as a descriptor (Promise<number>: the fd, or -errno), for the
 * server's pool (lib/server/netns-pool.ts). Made on a thread of its own that exits afterwards, so that no
 * thread of Node's ever leaves its namespace: unshare(CLONE_NEWNET) moves only the calling thread, and the
 * descriptor keeps the namespace alive after that thread is gone.
 */
#include "napi_util.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static void *make_netns(void *unused) {
  if (unshare(CLONE_NEWNET) != 0) return (void *)(intptr_t)-errno;
  int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  return (void *)(intptr_t)(fd < 0 ? -errno : fd);
}

static void run_new_netns(int_work *w) {
  pthread_t t;
  void *out;
  int err = pthread_create(&t, NULL, make_netns, NULL);
  if (err != 0) {
    w->result = -err;
    return;
  }
  pthread_join(t, &out);
  w->result = (int)(intptr_t)out;
}

static napi_value js_new_netns(napi_env env, napi_callback_info info) {
  int_work *w = calloc(1, sizeof *w);
  if (!w) {
    napi_throw_error(env, NULL, "newNetns: out of memory");
    return NULL;
  }
  w->run = run_new_netns;
  return queue_int_work(env, "newNetns", w);
}

void berth_init_netns(napi_env env, napi_value exports) {
  export_fn(env, exports, "newNetns", js_new_netns);
}
