/* Small helpers that keep N-API argument handling out of the syscall code. */
#ifndef BERTH_NAPI_UTIL_H
#define BERTH_NAPI_UTIL_H
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NAPI_CALL(env, call)                                                   \
  do {                                                                         \
    if ((call) != napi_ok) {                                                   \
      napi_throw_error((env), NULL, "N-API call failed: " #call);            \
      return NULL;                                                             \
    }                                                                          \
  } while (0)

/* Throws an Error with .code = errno name, .errno = number, .syscall = name. */
napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path);

bool arg_int32(napi_env env, napi_value v, int32_t *out);
bool arg_int64(napi_env env, napi_value v, int64_t *out);
bool arg_uint32(napi_env env, napi_value v, uint32_t *out);
/* Copies a JS string (UTF-8) or a Buffer (bytes, no NUL) into a fresh malloc'd buffer; NULL for null/undefined. Sets *ok=false on type error. */
char *arg_string(napi_env env, napi_value v, bool *ok);
bool is_nullish(napi_env env, napi_value v);

napi_value make_int(napi_env env, int64_t v);
napi_value make_undefined(napi_env env);
void export_fn(napi_env env, napi_value exports, const char *name, napi_callback fn);
const char *errno_name(int err);

/*
 * Queues `execute` on libuv's threadpool with `complete` back on the main thread, for a function that
 * returns a promise (already made, `deferred`). On failure the promise is rejected with
 * "<what>: cannot queue the work" and false is returned: `data` is then the caller's to free.
 */
bool queue_promise_work(napi_env env, const char *what, napi_async_execute_callback execute,
                        napi_async_complete_callback complete, void *data, napi_async_work *work,
                        napi_deferred deferred);

/*
 * An async work whose answer is one int (0, a descriptor, -errno): `run` sets `result` on libuv's
 * threadpool, and the promise resolves with it (rejects, naming `what`, if the work was cancelled before it
 * ran). Put it first in the caller's calloc'd struct: that struct is freed once the promise settles.
 */
typedef struct int_work {
  napi_async_work work;
  napi_deferred deferred;
  const char *what;
  void (*run)(struct int_work *w);
  int result;
} int_work;

/* Queues `w` (int_work) and returns its promise; NULL with an exception pending if it cannot (w freed). */
napi_value queue_int_work(napi_env env, const char *what, int_work *w);

/* Each C file registers its functions through one of these. */
void berth_init_syscalls(napi_env env, napi_value exports);
void berth_init_waiter(napi_env env, napi_value exports);
void berth_init_spawn(napi_env env, napi_value exports);
void berth_init_bpf(napi_env env, napi_value exports);
void berth_init_fsbatch(napi_env env, napi_value exports);
void berth_init_rtnl(napi_env env, napi_value exports);
void berth_init_nlwrite(napi_env env, napi_value exports);
void berth_init_exec_shim(napi_env env, napi_value exports);
void berth_init_unixsock(napi_env env, napi_value exports);
void berth_init_fdwatch(napi_env env, napi_value exports);
void berth_init_nlsocket(napi_env env, napi_value exports);
void berth_init_netns(napi_env env, napi_value exports);
#endif
