/*
 * rtnlStrictSocket() -> fd: a NETLINK_ROUTE socket of the calling thread's network namespace with
 * NETLINK_GET_STRICT_CHK set, non-blocking and close-on-exec. With strict checking the kernel reads a dump
 * request's header fields and attributes (rtm_table, rtm_protocol, rtm_type, RTA_TABLE, RTA_OIF) as filters
 * and sends only the routes that match, so finding a few routes costs no copy of a big table to userspace.
 * The `netlink` package's socket offers no setsockopt, hence this. JS sends with unixSend, reads with
 * unixRecv under watchReadable and closes it with fs.closeSync (lib/cni/net/nl/strict-socket.ts).
 */
#include "napi_util.h"
#include <errno.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

static napi_value js_rtnl_strict_socket(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (fd < 0) return throw_errno(env, errno, "socket(AF_NETLINK)", NULL);
  int one = 1;
  /* an error ACK would otherwise carry the whole request back */
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  if (setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "setsockopt(NETLINK_GET_STRICT_CHK)", NULL);
  }
  return make_int(env, fd);
}

void berth_init_nlstrict(napi_env env, napi_value exports) {
  export_fn(env, exports, "rtnlStrictSocket", js_rtnl_strict_socket);
}
