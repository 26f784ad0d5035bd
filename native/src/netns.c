/*
 * newNetns(): a new, empty network namespace, as a descriptor (Promise<number>: the fd, or -errno), for the server's pool
 * (lib/server/netns-pool.ts). Made on a thread of its own that exits afterwards, so that no thread of
 * Node's ever leaves its namespace: unshare(CLONE_NEWNET) moves only the calling thread, and the
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

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  int result; /* the descriptor, or -errno */
} new_netns;

static void *make_netns(void *unused) {
  if (unshare(CLONE_NEWNET) != 0) return (void *)(intptr_t)-errno;
  int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  return (void *)(intptr_t)(fd < 0 ? -errno : fd);
}

static void execute(napi_env env, void *data) {
  new_netns *r = data;
  pthread_t t;
  void *out;
  int err = pthread_create(&t, NULL, make_netns, NULL);
  if (err != 0) {
    r->result = -err;
    return;
  }
  pthread_join(t, &out);
  r->result = (int)(intptr_t)out;
}

static void complete(napi_env env, napi_status status, void *data) {
  new_netns *r = data;
  napi_value v;
  if (status != napi_ok && r->result >= 0) {
    close(r->result);
    r->result = -ECANCELED;
  }
  napi_create_int32(env, r->result, &v);
  napi_resolve_deferred(env, r->deferred, v);
  napi_delete_async_work(env, r->work);
  free(r);
}

static napi_value js_new_netns(napi_env env, napi_callback_info info) {
  new_netns *r = calloc(1, sizeof *r);
  if (!r) {
    napi_throw_error(env, NULL, "newNetns: out of memory");
    return NULL;
  }
  napi_value promise;
  NAPI_CALL(env, napi_create_promise(env, &r->deferred, &promise));
  if (!queue_promise_work(env, "newNetns", execute, complete, r, &r->work, r->deferred)) free(r);
  return promise;
}

void berth_init_netns(napi_env env, napi_value exports) {
  export_fn(env, exports, "newNetns", js_new_netns);
}
