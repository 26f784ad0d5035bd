#include "napi_util.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *errno_name(int err) {
  switch (err) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF) E(ECHILD)
    E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR)
    E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(EFBIG) E(ENOSPC) E(ESPIPE) E(EROFS)
    E(EMLINK) E(EPIPE) E(ERANGE) E(ENAMETOOLONG) E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(ENODATA)
    E(EOPNOTSUPP) E(ECONNREFUSED) E(ETIMEDOUT) E(EOVERFLOW)
    E(ENOTSOCK) E(EADDRINUSE) E(EPROTONOSUPPORT) E(ECANCELED)
#undef E
    default: return "EUNKNOWN";
  }
}

napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  char msg[512];
  if (path)
    snprintf(msg, sizeof msg, "%s %s: %s (%s)", syscall, path, strerror(err), errno_name(err));
  else
    snprintf(msg, sizeof msg, "%s: %s (%s)", syscall, strerror(err), errno_name(err));
  napi_value m, e, v;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, NULL, m, &e);
  napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, e, "code", v);
  napi_create_int32(env, err, &v);
  napi_set_named_property(env, e, "errno", v);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, e, "syscall", v);
  if (path) {
    napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, e, "path", v);
  }
  napi_throw(env, e);
  return NULL;
}

bool is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return true;
  return t == napi_null || t == napi_undefined;
}

bool arg_int32(napi_env env, napi_value v, int32_t *out) {
  return napi_get_value_int32(env, v, out) == napi_ok;
}
bool arg_uint32(napi_env env, napi_value v, uint32_t *out) {
  return napi_get_value_uint32(env, v, out) == napi_ok;
}
bool arg_int64(napi_env env, napi_value v, int64_t *out) {
  return napi_get_value_int64(env, v, out) == napi_ok;
}

char *arg_string(napi_env env, napi_value v, bool *ok) {
  *ok = true;
  if (is_nullish(env, v)) return NULL;
  bool is_buffer = false;
  if (napi_is_buffer(env, v, &is_buffer) == napi_ok && is_buffer) {
    /* a Buffer is a path as bytes (names that are not UTF-8); a NUL inside would cut it short */
    void *data;
    size_t n;
    if (napi_get_buffer_info(env, v, &data, &n) != napi_ok || memchr(data, 0, n)) {
      *ok = false;
      return NULL;
    }
    char *b = malloc(n + 1);
    if (!b) { *ok = false; return NULL; }
    memcpy(b, data, n);
    b[n] = 0;
    return b;
  }
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    *ok = false;
    return NULL;
  }
  char *s = malloc(len + 1);
  if (!s) { *ok = false; return NULL; }
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

napi_value make_int(napi_env env, int64_t v) {
  napi_value r;
  napi_create_int64(env, v, &r);
  return r;
}

napi_value make_undefined(napi_env env) {
  napi_value r;
  napi_get_undefined(env, &r);
  return r;
}

void export_fn(napi_env env, napi_value exports, const char *name, napi_callback fn) {
  napi_value f;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f);
  napi_set_named_property(env, exports, name, f);
}

bool queue_promise_work(napi_env env, const char *what, napi_async_execute_callback execute,
                        napi_async_complete_callback complete, void *data, napi_async_work *work,
                        napi_deferred deferred) {
  char text[128];
  napi_value name, msg, err;
  snprintf(text, sizeof text, "berth.%s", what);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &name);
  *work = NULL;
  if (napi_create_async_work(env, NULL, name, execute, complete, data, work) == napi_ok &&
      napi_queue_async_work(env, *work) == napi_ok)
    return true;
  if (*work) napi_delete_async_work(env, *work);
  snprintf(text, sizeof text, "%s: cannot queue the work", what);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &err);
  napi_reject_deferred(env, deferred, err);
  return false;
}

static void int_work_execute(napi_env env, void *data) {
  int_work *w = data;
  w->run(w);
}

static void int_work_complete(napi_env env, napi_status status, void *data) {
  int_work *w = data;
  napi_value v;
  if (status == napi_ok) {
    napi_create_int32(env, w->result, &v);
    napi_resolve_deferred(env, w->deferred, v);
  } else {
    char text[128];
    napi_value msg;
    snprintf(text, sizeof text, "%s: the work was cancelled", w->what);
    napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &v);
    napi_reject_deferred(env, w->deferred, v);
  }
  napi_delete_async_work(env, w->work);
  free(w);
}

napi_value queue_int_work(napi_env env, const char *what, int_work *w) {
  napi_value promise;
  w->what = what;
  if (napi_create_promise(env, &w->deferred, &promise) != napi_ok) {
    free(w);
    napi_throw_error(env, NULL, "N-API call failed: napi_create_promise");
    return NULL;
  }
  if (!queue_promise_work(env, what, int_work_execute, int_work_complete, w, &w->work, w->deferred)) free(w);
  return promise;
}
