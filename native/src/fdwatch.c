/*
 * watchReadable(fd, callback) -> stop(): calls callback(status) on the main thread each time fd is readable
 * or hung up (status < 0: a libuv poll error) until stop() is called; while it watches, the event loop
 * stays alive. A libuv poll on Node's own loop: what a net.Socket gives the launcher for the bootstrap's sync
 * socket, without loading Node's net and stream modules (several ms of every cold launch's start-up).
 * The caller reads (non-blocking: unixRecv) and closes fd itself, after stop().
 */
#include "napi_util.h"
#include <errno.h>
#include <stdlib.h>
#include <uv.h>

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context async;
  int stopped;   /* stop() ran: no more callbacks, the handle is closing */
  int closed;    /* libuv is done with the handle */
  int collected; /* the stop function is gone: nobody can reach this any more */
} fd_watch;

static void maybe_free(fd_watch *w) {
  if (w->closed && w->collected) free(w);
}

static void on_closed(uv_handle_t *h) {
  fd_watch *w = h->data;
  w->closed = 1;
  maybe_free(w);
}

static void stop_watch(fd_watch *w, int release_js) {
  if (w->stopped) return;
  w->stopped = 1;
  uv_poll_stop(&w->poll);
  if (release_js) {
    napi_delete_reference(w->env, w->callback);
    napi_async_destroy(w->env, w->async);
  }
  uv_close((uv_handle_t *)&w->poll, on_closed);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  (void)events;
  fd_watch *w = h->data;
  if (w->stopped) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, arg;
  if (napi_get_reference_value(env, w->callback, &cb) == napi_ok && cb) {
    napi_get_global(env, &recv); /* make_callback wants an object as `this` */
    napi_create_int32(env, status, &arg);
    /* make_callback: promise jobs the callback queues run when it returns, as after any I/O callback */
    if (napi_make_callback(env, w->async, recv, cb, 1, &arg, NULL) == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err); /* as a throwing 'data' listener would: uncaughtException */
    }
  }
  napi_close_handle_scope(env, scope);
}

static napi_value js_stop(napi_env env, napi_callback_info info) {
  void *data;
  NAPI_CALL(env, napi_get_cb_info(env, info, NULL, NULL, NULL, &data));
  stop_watch(data, 1);
  return make_undefined(env);
}

/* The stop function was garbage-collected: a watch still running can no longer be reached, end it. */
static void on_collected(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  fd_watch *w = data;
  stop_watch(w, 1);
  w->collected = 1;
  maybe_free(w);
}

static napi_value js_watch_readable(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  napi_valuetype type = napi_undefined;
  if (argc == 2) napi_typeof(env, argv[1], &type);
  if (argc < 2 || !arg_int32(env, argv[0], &fd) || fd < 0 || type != napi_function) {
    napi_throw_type_error(env, NULL, "watchReadable(fd, callback)");
    return NULL;
  }
  uv_loop_t *loop;
  NAPI_CALL(env, napi_get_uv_event_loop(env, &loop));
  fd_watch *w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, ENOMEM, "watchReadable", NULL);
  w->env = env;
  int rc = uv_poll_init(loop, &w->poll, fd);
  if (rc != 0) {
    free(w);
    return throw_errno(env, -rc, "uv_poll_init", NULL);
  }
  w->poll.data = w;
  napi_value resource, name, stop;
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, "berth.watchReadable", NAPI_AUTO_LENGTH, &name);
  if (napi_create_reference(env, argv[1], 1, &w->callback) != napi_ok
      || napi_async_init(env, resource, name, &w->async) != napi_ok
      || napi_create_function(env, "stop", NAPI_AUTO_LENGTH, js_stop, w, &stop) != napi_ok
      || napi_add_finalizer(env, stop, w, on_collected, NULL, NULL) != napi_ok) {
    /* the handle is initialised: libuv must close it; nothing JS holds w */
    w->collected = 1;
    stop_watch(w, 0);
    napi_throw_error(env, NULL, "watchReadable: N-API setup failed");
    return NULL;
  }
  rc = uv_poll_start(&w->poll, UV_READABLE | UV_DISCONNECT, on_poll);
  if (rc != 0) {
    stop_watch(w, 1);
    return throw_errno(env, -rc, "uv_poll_start", NULL);
  }
  return stop;
}

void berth_init_fdwatch(napi_env env, napi_value exports) {
  export_fn(env, exports, "watchReadable", js_watch_readable);
}
