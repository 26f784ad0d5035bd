/* Thin, typed wrappers over syscalls Node does not offer. Each throws an errno Error on failure. */
#include "napi_util.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

#define ARGS(n)                                                                \
  size_t argc = n;                                                             \
  napi_value argv[n];                                                          \
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))

/* mount(source, target, fstype, flags, data) */
static napi_value js_mount(napi_env env, napi_callback_info info) {
  ARGS(5);
  bool ok1, ok2, ok3, ok5;
  int64_t flags = 0;
  char *source = arg_string(env, argv[0], &ok1);
  char *target = arg_string(env, argv[1], &ok2);
  char *fstype = arg_string(env, argv[2], &ok3);
  char *data = arg_string(env, argv[4], &ok5);
  napi_value ret = NULL;
  if (!ok1 || !ok2 || !ok3 || !ok5 || !target || !arg_int64(env, argv[3], &flags)) {
    napi_throw_type_error(env, NULL, "mount(source, target, fstype, flags, data)");
  } else if (mount(source, target, fstype, (unsigned long)flags, data) != 0) {
    throw_errno(env, errno, "mount", target);
  } else {
    ret = make_undefined(env);
  }
  free(source); free(target); free(fstype); free(data);
  return ret;
}

/* umount2(target, flags) */
static napi_value js_umount2(napi_env env, napi_callback_info info) {
  ARGS(2);
  bool ok;
  int32_t flags = 0;
  char *target = arg_string(env, argv[0], &ok);
  if (!ok || !target || !arg_int32(env, argv[1], &flags)) {
    free(target);
    napi_throw_type_error(env, NULL, "umount2(target, flags)");
    return NULL;
  }
  int rc = umount2(target, flags);
  int err = errno;
  napi_value ret = rc == 0 ? make_undefined(env) : throw_errno(env, err, "umount2", target);
  free(target);
  return ret;
}

/* setns(fd, nstype): moves the calling (main) thread only; only network and uts namespaces are safe here. */
static napi_value js_setns(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd, nstype;
  if (!arg_int32(env, argv[0], &fd) || !arg_int32(env, argv[1], &nstype)) {
    napi_throw_type_error(env, NULL, "setns(fd, nstype)");
    return NULL;
  }
  if (setns(fd, nstype) != 0) return throw_errno(env, errno, "setns", NULL);
  return make_undefined(env);
}

/* mknod(path, mode, major, minor) */
static napi_value js_mknod(napi_env env, napi_callback_info info) {
  ARGS(4);
  bool ok;
  uint32_t mode, maj, min;
  char *path = arg_string(env, argv[0], &ok);
  if (!ok || !path || !arg_uint32(env, argv[1], &mode) || !arg_uint32(env, argv[2], &maj) ||
      !arg_uint32(env, argv[3], &min)) {
    free(path);
    napi_throw_type_error(env, NULL, "mknod(path, mode, major, minor)");
    return NULL;
  }
  int rc = mknod(path, mode, makedev(maj, min));
  int err = errno;
  napi_value ret = rc == 0 ? make_undefined(env) : throw_errno(env, err, "mknod", path);
  free(path);
  return ret;
}

/* lsetxattr(path, name, value: Buffer) */
static napi_value js_lsetxattr(napi_env env, napi_callback_info info) {
  ARGS(3);
  bool ok1, ok2;
  char *path = arg_string(env, argv[0], &ok1);
  char *name = arg_string(env, argv[1], &ok2);
  void *data = NULL;
  size_t len = 0;
  napi_value ret = NULL;
  if (!ok1 || !ok2 || !path || !name || napi_get_buffer_info(env, argv[2], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "lsetxattr(path, name, value: Buffer)");
  } else if (lsetxattr(path, name, data, len, 0) != 0) {
    throw_errno(env, errno, "lsetxattr", path);
  } else {
    ret = make_undefined(env);
  }
  free(path); free(name);
  return ret;
}

/* lgetxattr(path, name) -> Buffer | null when the attribute is absent */
static napi_value js_lgetxattr(napi_env env, napi_callback_info info) {
  ARGS(2);
  bool ok1, ok2;
  char *path = arg_string(env, argv[0], &ok1);
  char *name = arg_string(env, argv[1], &ok2);
  napi_value ret = NULL;
  if (!ok1 || !ok2 || !path || !name) {
    napi_throw_type_error(env, NULL, "lgetxattr(path, name)");
    goto out;
  }
  char buf[65536];
  ssize_t n = lgetxattr(path, name, buf, sizeof buf);
  if (n < 0) {
    if (errno == ENODATA) napi_get_null(env, &ret);
    else throw_errno(env, errno, "lgetxattr", path);
    goto out;
  }
  void *dst;
  napi_create_buffer_copy(env, (size_t)n, buf, &dst, &ret);
out:
  free(path); free(name);
  return ret;
}

/* llistxattr(path) -> string[] */
static napi_value js_llistxattr(napi_env env, napi_callback_info info) {
  ARGS(1);
  bool ok;
  char *path = arg_string(env, argv[0], &ok);
  if (!ok || !path) {
    free(path);
    napi_throw_type_error(env, NULL, "llistxattr(path)");
    return NULL;
  }
  char buf[65536];
  ssize_t n = llistxattr(path, buf, sizeof buf);
  if (n < 0) {
    napi_value r = throw_errno(env, errno, "llistxattr", path);
    free(path);
    return r;
  }
  free(path);
  napi_value arr;
  napi_create_array(env, &arr);
  uint32_t i = 0;
  for (ssize_t off = 0; off < n;) {
    size_t l = strlen(buf + off);
    napi_value s;
    napi_create_string_utf8(env, buf + off, l, &s);
    napi_set_element(env, arr, i++, s);
    off += (ssize_t)l + 1;
  }
  return arr;
}

/* flock(fd, operation): blocking unless LOCK_NB is in operation. Meant for short-lived CLI processes. */
static napi_value js_flock(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd, op;
  if (!arg_int32(env, argv[0], &fd) || !arg_int32(env, argv[1], &op)) {
    napi_throw_type_error(env, NULL, "flock(fd, operation)");
    return NULL;
  }
  int rc;
  do rc = flock(fd, op); while (rc != 0 && errno == EINTR);
  if (rc != 0) return throw_errno(env, errno, "flock", NULL);
  return make_undefined(env);
}

/* sendFd(socketFd, fd, payload: string): one message carrying exactly one SCM_RIGHTS descriptor. */
static napi_value js_send_fd(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t sock, fd;
  bool ok;
  char *payload = arg_string(env, argv[2], &ok);
  if (!arg_int32(env, argv[0], &sock) || !arg_int32(env, argv[1], &fd) || !ok || !payload) {
    free(payload);
    napi_throw_type_error(env, NULL, "sendFd(socketFd, fd, payload)");
    return NULL;
  }
  char cbuf[CMSG_SPACE(sizeof(int))];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = {.iov_base = payload, .iov_len = strlen(payload)};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t n;
  do n = sendmsg(sock, &msg, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  int err = errno;
  free(payload);
  if (n < 0) return throw_errno(env, err, "sendmsg", NULL);
  return make_undefined(env);
}

/* recvFd(socketFd) -> { fd, payload } : blocking; used by console-socket receivers in tests and tools. */
static napi_value js_recv_fd(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t sock;
  if (!arg_int32(env, argv[0], &sock)) {
    napi_throw_type_error(env, NULL, "recvFd(socketFd)");
    return NULL;
  }
  char data[4096];
  char cbuf[CMSG_SPACE(sizeof(int) * 4)];
  struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno(env, errno, "recvmsg", NULL);
  int fd = -1, count = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      count += (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      memcpy(&fd, CMSG_DATA(c), sizeof(int));
    }
  }
  napi_value obj, v;
  napi_create_object(env, &obj);
  napi_create_int32(env, fd, &v);
  napi_set_named_property(env, obj, "fd", v);
  napi_create_int32(env, count, &v);
  napi_set_named_property(env, obj, "fdCount", v);
  napi_create_string_utf8(env, data, (size_t)n, &v);
  napi_set_named_property(env, obj, "payload", v);
  return obj;
}

/* pidfdOpen(pid) -> fd */
static napi_value js_pidfd_open(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t pid;
  if (!arg_int32(env, argv[0], &pid)) {
    napi_throw_type_error(env, NULL, "pidfdOpen(pid)");
    return NULL;
  }
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) return throw_errno(env, errno, "pidfd_open", NULL);
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  return make_int(env, fd);
}

/* pidfdSendSignal(pidfd, signal): signals exactly the process the pidfd names, never a recycled pid. */
static napi_value js_pidfd_send_signal(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd, sig;
  if (!arg_int32(env, argv[0], &fd) || !arg_int32(env, argv[1], &sig)) {
    napi_throw_type_error(env, NULL, "pidfdSendSignal(pidfd, signal)");
    return NULL;
  }
  if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) != 0) return throw_errno(env, errno, "pidfd_send_signal", NULL);
  return make_undefined(env);
}

/* setChildSubreaper(on): orphaned container processes re-parent to us, so we can reap them. */
static napi_value js_set_child_subreaper(napi_env env, napi_callback_info info) {
  ARGS(1);
  bool on;
  if (napi_get_value_bool(env, argv[0], &on) != napi_ok) {
    napi_throw_type_error(env, NULL, "setChildSubreaper(on)");
    return NULL;
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, on ? 1 : 0, 0, 0, 0) != 0) return throw_errno(env, errno, "prctl", NULL);
  return make_undefined(env);
}

/*
 * dupFd(fd) -> a close-on-exec duplicate: a second descriptor number for the same socket, so that it can be
 * polled (watchReadable) while libuv keeps its own watcher for the original (libuv allows one per number).
 */
static napi_value js_dup_fd(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  int copy = arg_int32(env, argv[0], &fd) ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : (errno = EBADF, -1);
  return copy < 0 ? throw_errno(env, errno, "fcntl(F_DUPFD_CLOEXEC)", NULL) : make_int(env, copy);
}

/* socketpair(): a SOCK_STREAM unix pair, both ends close-on-exec -> [fd0, fd1] */
static napi_value js_socketpair(napi_env env, napi_callback_info info) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return throw_errno(env, errno, "socketpair", NULL);
  napi_value arr;
  napi_create_array_with_length(env, 2, &arr);
  napi_set_element(env, arr, 0, make_int(env, sv[0]));
  napi_set_element(env, arr, 1, make_int(env, sv[1]));
  return arr;
}

/*
 * openInRoot(root, path, flags) -> fd: path resolved as if root were "/" (openat2 RESOLVE_IN_ROOT, no magic
 * links), so a file of a container's tree is read without any symlink in that tree reaching the host's.
 */
static napi_value js_open_in_root(napi_env env, napi_callback_info info) {
  ARGS(3);
  bool ok1, ok2;
  int32_t flags;
  char *root = arg_string(env, argv[0], &ok1);
  char *path = arg_string(env, argv[1], &ok2);
  napi_value ret = NULL;
  if (!ok1 || !ok2 || !root || !path || !arg_int32(env, argv[2], &flags)) {
    napi_throw_type_error(env, NULL, "openInRoot(root, path, flags)");
  } else {
    int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    const char *rel = path;
    while (*rel == '/') rel++;
    struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    int fd = rootfd < 0 ? -1 : (int)syscall(SYS_openat2, rootfd, *rel ? rel : ".", &how, sizeof how);
    int err = errno;
    if (rootfd >= 0) close(rootfd);
    ret = fd < 0 ? throw_errno(env, err, "openat2", path) : make_int(env, fd);
  }
  free(root); free(path);
  return ret;
}

void berth_init_syscalls(napi_env env, napi_value exports) {
  export_fn(env, exports, "openInRoot", js_open_in_root);
  export_fn(env, exports, "mount", js_mount);
  export_fn(env, exports, "umount2", js_umount2);
  export_fn(env, exports, "setns", js_setns);
  export_fn(env, exports, "mknod", js_mknod);
  export_fn(env, exports, "lsetxattr", js_lsetxattr);
  export_fn(env, exports, "lgetxattr", js_lgetxattr);
  export_fn(env, exports, "llistxattr", js_llistxattr);
  export_fn(env, exports, "flock", js_flock);
  export_fn(env, exports, "sendFd", js_send_fd);
  export_fn(env, exports, "recvFd", js_recv_fd);
  export_fn(env, exports, "pidfdOpen", js_pidfd_open);
  export_fn(env, exports, "pidfdSendSignal", js_pidfd_send_signal);
  export_fn(env, exports, "setChildSubreaper", js_set_child_subreaper);
  export_fn(env, exports, "socketpair", js_socketpair);
  export_fn(env, exports, "dupFd", js_dup_fd);
}
