/*
 * rtnlSocket(strict) -> fd: a NETLINK_ROUTE socket of the calling thread's network namespace, non-blocking
 * and close-on-exec, for Rtnl (lib/cni/net/nl/route-socket.ts). JS sends with unixSend, reads with unixRecv
 * (at once after a send: the kernel answers inside sendmsg; else under watchReadable) and closes it with
 * fs.closeSync. The `netlink` package's socket gives no fd to read without the event loop, hence this.
 * strict sets NETLINK_GET_STRICT_CHK: the kernel then reads a dump request's header fields and attributes
 * (rtm_table, rtm_protocol, rtm_type, RTA_TABLE, RTA_OIF) as filters and sends only the routes that match,
 * so finding a few routes costs no copy of a big table to userspace.
 */
#include "napi_util.h"
#include <errno.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

static napi_value js_rtnl_socket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool strict = false;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_bool(env, argv[0], &strict) != napi_ok) {
    napi_throw_type_error(env, NULL, "rtnlSocket(strict: boolean)");
    return NULL;
  }
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (fd < 0) return throw_errno(env, errno, "socket(AF_NETLINK)", NULL);
  int one = 1;
  /* an error ACK would otherwise carry the whole request back */
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  if (strict && setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "setsockopt(NETLINK_GET_STRICT_CHK)", NULL);
  }
  return make_int(env, fd);
}

void berth_init_nlsocket(napi_env env, napi_value exports) {
  export_fn(env, exports, "rtnlSocket", js_rtnl_socket);
}
