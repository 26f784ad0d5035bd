/*
 * rtnlRequest(message): one rtnetlink request (a whole nlmsghdr + body, built by lib/cni/net/nl) sent and
 * acknowledged on libuv's threadpool; resolves with 0 or -errno from the kernel's ACK.
 * Why: some requests are long in the kernel, not in user space. Removing a network device waits for RCU
 * grace periods inside the sendmsg itself (~20 ms here), and a plugin's DEL can release its address
 * meanwhile, instead of blocking its only thread. The socket is opened by the worker thread, so the request
 * acts in the network namespace the process started in: lib/cni/net/netns.ts moves the main thread only.
 */
#include "napi_util.h"
#include <errno.h>
#include <stdbool.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
  unsigned char *msg;
  size_t len;
  int result; /* 0 or -errno */
  napi_deferred deferred;
  napi_async_work work;
} rtnl_request;

static int transact(unsigned char *msg, size_t len) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return -errno;
  /* an error ACK would otherwise carry the whole request back, and a long one would not fit in buf */
  int one = 1;
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  struct nlmsghdr *req = (struct nlmsghdr *)msg;
  req->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  req->nlmsg_seq = 1;
  req->nlmsg_pid = 0;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t n;
  do n = sendto(fd, msg, len, 0, (struct sockaddr *)&kernel, sizeof kernel); while (n < 0 && errno == EINTR);
  int result = n < 0 ? -errno : -EIO;
  if (n >= 0) {
    /* the ACK: an NLMSG_ERROR whose error is 0 for success; a request without a reply gets nothing else */
    char buf[8192];
    for (;;) {
      do n = recv(fd, buf, sizeof buf, 0); while (n < 0 && errno == EINTR);
      if (n < 0) { result = -errno; break; }
      struct nlmsghdr *h = (struct nlmsghdr *)buf;
      bool done = false;
      for (; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
        if (h->nlmsg_seq != 1 || h->nlmsg_type != NLMSG_ERROR) continue;
        result = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
        done = true;
        break;
      }
      if (done) break;
    }
  }
  close(fd);
  return result;
}

static void execute(napi_env env, void *data) {
  rtnl_request *r = data;
  r->result = transact(r->msg, r->len);
}

static void complete(napi_env env, napi_status status, void *data) {
  rtnl_request *r = data;
  napi_value v;
  if (status == napi_ok) {
    napi_create_int32(env, r->result, &v);
    napi_resolve_deferred(env, r->deferred, v);
  } else {
    napi_value msg;
    napi_create_string_utf8(env, "rtnlRequest: the work was cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &v);
    napi_reject_deferred(env, r->deferred, v);
  }
  napi_delete_async_work(env, r->work);
  free(r->msg);
  free(r);
}

static napi_value js_rtnl_request(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *data = NULL;
  size_t len = 0;
  bool is_buffer = false;
  if (argc < 1 || napi_is_buffer(env, argv[0], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_buffer_info(env, argv[0], &data, &len) != napi_ok || len < sizeof(struct nlmsghdr) ||
      ((struct nlmsghdr *)data)->nlmsg_len != len) {
    napi_throw_type_error(env, NULL, "rtnlRequest(message): message must be a Buffer holding one netlink message (nlmsg_len = its length)");
    return NULL;
  }
  rtnl_request *r = calloc(1, sizeof *r);
  if (!r || !(r->msg = malloc(len))) {
    free(r);
    napi_throw_error(env, NULL, "rtnlRequest: out of memory");
    return NULL;
  }
  memcpy(r->msg, data, len); /* the worker owns its copy: the caller's Buffer may be reused meanwhile */
  r->len = len;
  napi_value promise;
  NAPI_CALL(env, napi_create_promise(env, &r->deferred, &promise));
  if (!queue_promise_work(env, "rtnlRequest", execute, complete, r, &r->work, r->deferred)) {
    free(r->msg);
    free(r);
  }
  return promise;
}

void berth_init_rtnl(napi_env env, napi_value exports) {
  export_fn(env, exports, "rtnlRequest", js_rtnl_request);
}
