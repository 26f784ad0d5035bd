/*
 * fsBatch(ops): runs a list of small file operations (cgroup files, container state) in order, in ONE napi_async_work on libuv's threadpool,
 * and resolves once with every result. Making, joining or removing a container's cgroups is ~100 small
 * syscalls; one promise per syscall costs the main thread far more than the kernel work (lib/cgroups/batch.ts).
 *
 * ops is one flat array of triples, cheap to build from JS: [op, path, arg, op, path, arg, ...]
 *   1 mkdir  path           mode 0755; EEXIST is reported (as -EEXIST) but never stops the batch
 *   2 rmdir  path
 *   3 write  path  value    open O_WRONLY (no O_CREAT/O_TRUNC), exactly one write(2), close:
 *                           the kernel parses each write of a control file on its own
 *   4 read   path           the whole file as a string; at most 64 KiB (EFBIG beyond)
 *   5 fill   path  parent   cpuset: when path's content is blank, copy the parent file's content into it;
 *                           the result is 1 when it copied, 0 when there was nothing to do
 *   6 create path  content  a new file (O_CREAT | O_EXCL, mode 0600) holding content: the first half of
 *                           an atomic replace, with rename
 *   7 rename path  target   rename(2) path to target
 *   8 unlink path
 *   op | 0x100 (NOFAIL): the op's error is reported but does not stop the batch
 * arg is a string for write, fill, create and rename, null or undefined otherwise.
 *
 * The batch stops at the first error of an op without NOFAIL (EEXIST of mkdir excepted). The promise
 * resolves with { results, failed, errno }: results[i] for every op that ran (0 or -errno; a read's text;
 * a fill's 1 or 0), failed = the index of the op that stopped the batch or -1, errno = its errno or 0.
 */
#include "napi_util.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { OP_MKDIR = 1, OP_RMDIR, OP_WRITE, OP_READ, OP_FILL, OP_CREATE, OP_RENAME, OP_UNLINK };
#define OP_NOFAIL 0x100
#define READ_MAX (64 * 1024)
#define MAX_OPS 65536

typedef struct {
  int op;      /* OP_* */
  int nofail;
  char *path;
  char *arg;   /* write, create: the content; fill: the parent's file; rename: the target */
  size_t arg_len;
  int result;  /* 0, 1 (fill copied) or -errno */
  char *text;  /* read: the content */
  size_t text_len;
} fs_op;

typedef struct {
  fs_op *ops;
  size_t count;
  size_t ran;   /* ops that ran: the stopping op included */
  int failed;   /* index of the op that stopped the batch, or -1 */
  char *buf;    /* READ_MAX + 1 bytes, for reads and fills */
  napi_deferred deferred;
  napi_async_work work;
} fs_batch;

static void batch_free(fs_batch *b) {
  for (size_t i = 0; i < b->count; i++) {
    free(b->ops[i].path);
    free(b->ops[i].arg);
    free(b->ops[i].text);
  }
  free(b->ops);
  free(b->buf);
  free(b);
}

/* ---- the operations (threadpool side: no N-API here) ---- */

static int open_retry(const char *path, int flags) {
  int fd;
  do fd = open(path, flags | O_CLOEXEC); while (fd < 0 && errno == EINTR);
  return fd;
}

/* Reads the whole (small) file into buf; -errno on failure, -EFBIG when it holds more than READ_MAX. */
static int read_small(const char *path, char *buf, size_t *len) {
  int fd = open_retry(path, O_RDONLY);
  if (fd < 0) return -errno;
  size_t got = 0;
  int err = 0;
  for (;;) {
    ssize_t n = read(fd, buf + got, READ_MAX + 1 - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { err = -errno; break; }
    if (n == 0) break;
    got += (size_t)n;
    if (got > READ_MAX) { err = -EFBIG; break; }
  }
  close(fd);
  *len = got;
  return err;
}

static int write_once(const char *path, const char *value, size_t len) {
  int fd = open_retry(path, O_WRONLY);
  if (fd < 0) return -errno;
  ssize_t n;
  do n = write(fd, value, len); while (n < 0 && errno == EINTR);
  int err = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
  close(fd);
  return err;
}

static int create_file(const char *path, const char *content, size_t len) {
  int fd = open_retry(path, O_WRONLY | O_CREAT | O_EXCL);
  if (fd < 0) return -errno;
  /* a regular file may take a write in parts, unlike a control file */
  size_t off = 0;
  int err = 0;
  while (off < len) {
    ssize_t n = write(fd, content + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { err = n < 0 ? -errno : -EIO; break; }
    off += (size_t)n;
  }
  if (fchmod(fd, 0600) != 0 && !err) err = -errno; /* exactly 0600, whatever the umask */
  close(fd);
  if (err) unlink(path);
  return err;
}

static int blank(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (s[i] != ' ' && s[i] != '\n' && s[i] != '\t') return 0;
  return 1;
}

/* v1 cpuset: a new cgroup's cpus/mems start empty and it refuses tasks until they are set. */
static int fill_if_empty(fs_op *o, char *buf) {
  size_t len;
  int err = read_small(o->path, buf, &len);
  if (err) return err;
  if (!blank(buf, len)) return 0;
  err = read_small(o->arg, buf, &len);
  if (err == -ENOENT || err == -ENODEV) return 0; /* above the hierarchy: nothing to copy */
  if (err) return err;
  if (blank(buf, len)) return 0;
  int werr = write_once(o->path, buf, len);
  if (!werr) return 1;
  /* a concurrent create may have filled it first: that is fine if it is filled now */
  if (read_small(o->path, buf, &len) == 0 && !blank(buf, len)) return 0;
  return werr;
}

static int run_op(fs_op *o, char *buf) {
  switch (o->op) {
    case OP_MKDIR: return mkdir(o->path, 0755) == 0 ? 0 : -errno;
    case OP_RMDIR: return rmdir(o->path) == 0 ? 0 : -errno;
    case OP_WRITE: return write_once(o->path, o->arg, o->arg_len);
    case OP_READ: {
      size_t len;
      int err = read_small(o->path, buf, &len);
      if (err) return err;
      o->text = malloc(len ? len : 1);
      if (!o->text) return -ENOMEM;
      memcpy(o->text, buf, len);
      o->text_len = len;
      return 0;
    }
    case OP_FILL: return fill_if_empty(o, buf);
    case OP_CREATE: return create_file(o->path, o->arg, o->arg_len);
    case OP_RENAME: return rename(o->path, o->arg) == 0 ? 0 : -errno;
    case OP_UNLINK: return unlink(o->path) == 0 ? 0 : -errno;
  }
  return -EINVAL;
}

static void execute(napi_env env, void *data) {
  fs_batch *b = data;
  for (size_t i = 0; i < b->count; i++) {
    fs_op *o = &b->ops[i];
    o->result = run_op(o, b->buf);
    b->ran = i + 1;
    if (o->result < 0 && !o->nofail && !(o->op == OP_MKDIR && o->result == -EEXIST)) {
      b->failed = (int)i;
      return;
    }
  }
}

/* ---- back on the main thread ---- */

static void complete(napi_env env, napi_status status, void *data) {
  fs_batch *b = data;
  napi_value out, results, v;
  if (status != napi_ok) {
    napi_value msg, err;
    napi_create_string_utf8(env, "fsBatch: the work was cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, b->deferred, err);
  } else {
    napi_create_object(env, &out);
    napi_create_array_with_length(env, b->ran, &results);
    for (size_t i = 0; i < b->ran; i++) {
      fs_op *o = &b->ops[i];
      if (o->op == OP_READ && o->result == 0) napi_create_string_utf8(env, o->text, o->text_len, &v);
      else napi_create_int32(env, o->result, &v);
      napi_set_element(env, results, (uint32_t)i, v);
    }
    napi_set_named_property(env, out, "results", results);
    napi_create_int32(env, b->failed, &v);
    napi_set_named_property(env, out, "failed", v);
    napi_create_int32(env, b->failed >= 0 ? -b->ops[b->failed].result : 0, &v);
    napi_set_named_property(env, out, "errno", v);
    napi_resolve_deferred(env, b->deferred, out);
  }
  napi_delete_async_work(env, b->work);
  batch_free(b);
}

static napi_value type_error(napi_env env, fs_batch *b, const char *msg) {
  if (b) batch_free(b);
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

/* A JS string as a fresh C string; NULL (no exception) when it is not a string or holds a NUL byte. */
static char *copy_string(napi_env env, napi_value v, size_t *len_out) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (!s) return NULL;
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  if (strlen(s) != len) { free(s); return NULL; } /* an embedded NUL would silently shorten the path */
  if (len_out) *len_out = len;
  return s;
}

static napi_value js_fs_batch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char msg[160];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool is_array = false;
  if (argc < 1 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array)
    return type_error(env, NULL, "fsBatch(ops): ops must be an array of [op, path, arg] triples");
  uint32_t n;
  NAPI_CALL(env, napi_get_array_length(env, argv[0], &n));
  if (n % 3 != 0) return type_error(env, NULL, "fsBatch(ops): ops.length must be a multiple of 3 (op, path, arg)");
  if (n / 3 > MAX_OPS) return type_error(env, NULL, "fsBatch(ops): more than 65536 operations");

  fs_batch *b = calloc(1, sizeof *b);
  if (!b) return type_error(env, NULL, "fsBatch: out of memory");
  b->count = n / 3;
  b->failed = -1;
  b->ops = calloc(b->count ? b->count : 1, sizeof *b->ops);
  b->buf = malloc(READ_MAX + 1);
  if (!b->ops || !b->buf) return type_error(env, b, "fsBatch: out of memory");
  for (size_t i = 0; i < b->count; i++) {
    fs_op *o = &b->ops[i];
    napi_value vop, vpath, varg;
    int32_t code;
    napi_get_element(env, argv[0], (uint32_t)(3 * i), &vop);
    napi_get_element(env, argv[0], (uint32_t)(3 * i + 1), &vpath);
    napi_get_element(env, argv[0], (uint32_t)(3 * i + 2), &varg);
    if (!arg_int32(env, vop, &code) || (code & ~OP_NOFAIL) < OP_MKDIR || (code & ~OP_NOFAIL) > OP_UNLINK) {
      snprintf(msg, sizeof msg, "fsBatch(ops): ops[%zu] (op %zu) must be an op code 1-8, optionally | 0x100", 3 * i, i);
      return type_error(env, b, msg);
    }
    o->op = code & ~OP_NOFAIL;
    o->nofail = (code & OP_NOFAIL) != 0;
    if (!(o->path = copy_string(env, vpath, NULL)) || !o->path[0]) {
      snprintf(msg, sizeof msg, "fsBatch(ops): ops[%zu] (path of op %zu) must be a non-empty string without NUL bytes", 3 * i + 1, i);
      return type_error(env, b, msg);
    }
    if (o->op == OP_WRITE || o->op == OP_FILL || o->op == OP_CREATE || o->op == OP_RENAME) {
      bool names_a_file = o->op == OP_FILL || o->op == OP_RENAME;
      if (!(o->arg = copy_string(env, varg, &o->arg_len)) || (names_a_file && !o->arg[0])) {
        snprintf(msg, sizeof msg, "fsBatch(ops): ops[%zu] (%s of op %zu) must be a string without NUL bytes", 3 * i + 2,
                 o->op == OP_FILL ? "parent file" : o->op == OP_RENAME ? "target" : o->op == OP_WRITE ? "value" : "content", i);
        return type_error(env, b, msg);
      }
    } else if (!is_nullish(env, varg)) {
      snprintf(msg, sizeof msg, "fsBatch(ops): ops[%zu] (arg of op %zu) must be null: only write, fill, create and rename take one", 3 * i + 2, i);
      return type_error(env, b, msg);
    }
  }

  napi_value promise;
  if (napi_create_promise(env, &b->deferred, &promise) != napi_ok) {
    batch_free(b);
    napi_throw_error(env, NULL, "fsBatch: cannot create a promise");
    return NULL;
  }
  if (!queue_promise_work(env, "fsBatch", execute, complete, b, &b->work, b->deferred)) batch_free(b);
  return promise;
}

void berth_init_fsbatch(napi_env env, napi_value exports) {
  export_fn(env, exports, "fsBatch", js_fs_batch);
}
