/*
 * The unix-socket calls the berth server and its test client need and Node lacks (lib/server/): a
 * non-blocking recvmsg that keeps the SCM_RIGHTS descriptors a front-end passes, a sendmsg that passes
 * several, and the peer's credentials (SO_PEERCRED) for the root-only check.
 */
#include "napi_util.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

/* at most this many descriptors in one message: stdio and a generous --preserve-fds */
#define MAX_FDS 253

static napi_value args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  for (size_t i = argc; i < want; i++) napi_get_undefined(env, &argv[i]);
  return argv[0];
}

/* unixRecv(fd, maxBytes) -> { data: Buffer, fds: number[] } | null when nothing is there yet (EAGAIN);
 * data is empty at end of stream. The descriptors are close-on-exec. */
static napi_value js_unix_recv(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  args(env, info, 2, argv);
  int32_t sock;
  uint32_t max;
  if (!arg_int32(env, argv[0], &sock) || !arg_uint32(env, argv[1], &max) || max == 0) {
    napi_throw_type_error(env, NULL, "unixRecv(fd, maxBytes)");
    return NULL;
  }
  char *data = malloc(max);
  if (!data) return throw_errno(env, ENOMEM, "unixRecv", NULL);
  union { char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)]; struct cmsghdr align; } cbuf;
  struct iovec iov = {.iov_base = data, .iov_len = max};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.buf, .msg_controllen = sizeof cbuf.buf};
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    free(data);
    if (err == EAGAIN || err == EWOULDBLOCK) {
      napi_value null;
      napi_get_null(env, &null);
      return null;
    }
    return throw_errno(env, err, "recvmsg", NULL);
  }
  napi_value obj, buf, fds, v;
  napi_create_object(env, &obj);
  napi_create_array(env, &fds);
  uint32_t count = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < k; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      napi_create_int32(env, fd, &v);
      napi_set_element(env, fds, count++, v);
    }
  }
  /* a truncated descriptor list would shift every fd after it: refuse the message (the caller closes) */
  napi_get_boolean(env, (msg.msg_flags & MSG_CTRUNC) != 0, &v);
  napi_set_named_property(env, obj, "truncated", v);
  napi_create_buffer_copy(env, (size_t)n, data, NULL, &buf);
  free(data);
  napi_set_named_property(env, obj, "data", buf);
  napi_set_named_property(env, obj, "fds", fds);
  return obj;
}

/* unixSend(fd, data: Buffer, fds: number[]) -> bytes sent: one sendmsg with every fd in SCM_RIGHTS. */
static napi_value js_unix_send(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  args(env, info, 3, argv);
  int32_t sock;
  void *data;
  size_t len;
  bool is_array = false;
  uint32_t nfds = 0;
  if (!arg_int32(env, argv[0], &sock) || napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok ||
      napi_is_array(env, argv[2], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[2], &nfds) != napi_ok || nfds > MAX_FDS) {
    napi_throw_type_error(env, NULL, "unixSend(fd, data: Buffer, fds: number[])");
    return NULL;
  }
  union { char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)]; struct cmsghdr align; } cbuf;
  memset(&cbuf, 0, sizeof cbuf);
  struct iovec iov = {.iov_base = data, .iov_len = len};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  if (nfds > 0) {
    msg.msg_control = cbuf.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    for (uint32_t i = 0; i < nfds; i++) {
      napi_value e;
      int32_t fd;
      if (napi_get_element(env, argv[2], i, &e) != napi_ok || !arg_int32(env, e, &fd)) {
        napi_throw_type_error(env, NULL, "unixSend: fds must be integers");
        return NULL;
      }
      memcpy(CMSG_DATA(c) + i * sizeof(int), &fd, sizeof(int));
    }
  }
  ssize_t n;
  do n = sendmsg(sock, &msg, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno(env, errno, "sendmsg", NULL);
  return make_int(env, n);
}

/* peerCred(fd) -> { pid, uid, gid } of the process at the other end, as it was at connect(). */
static napi_value js_peer_cred(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  args(env, info, 1, argv);
  int32_t sock;
  if (!arg_int32(env, argv[0], &sock)) {
    napi_throw_type_error(env, NULL, "peerCred(fd)");
    return NULL;
  }
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return throw_errno(env, errno, "getsockopt(SO_PEERCRED)", NULL);
  napi_value obj;
  napi_create_object(env, &obj);
  napi_set_named_property(env, obj, "pid", make_int(env, cred.pid));
  napi_set_named_property(env, obj, "uid", make_int(env, cred.uid));
  napi_set_named_property(env, obj, "gid", make_int(env, cred.gid));
  return obj;
}

void berth_init_unixsock(napi_env env, napi_value exports) {
  export_fn(env, exports, "unixRecv", js_unix_recv);
  export_fn(env, exports, "unixSend", js_unix_send);
  export_fn(env, exports, "peerCred", js_peer_cred);
}
