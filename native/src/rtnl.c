/*
 * rtnlDeleteLink(name): removes a network device of the network namespace the process started in, and
 * resolves with 0 as soon as the kernel has taken it out of that namespace (name and index free, its
 * addresses and routes gone; the kernel announces that with RTM_DELLINK), -ENODEV if there is no such
 * device, or -errno if the kernel refuses.
 *
 * Why not simply send RTM_DELLINK and wait for the ACK: the kernel takes the device out quickly, then, still
 * inside the requesting task's sendmsg, waits for RCU grace periods before it frees it (far longer, and how
 * much longer depends on the kernel's RCU settings, e.g. CONFIG_RCU_LAZY and HZ). A CNI DEL would sit that out before it could answer and exit. So a forked
 * child sends the request and sits out the wait; this process listens for the announcement, and a detached
 * thread reaps the child (if this process exits first, the child is reparented and its new parent reaps it).
 * The work runs on libuv's threadpool, whose threads stay in the namespace the process started in, whatever
 * lib/cni/net/netns.ts did to the main thread.
 */
#include "napi_util.h"
#include "fdutil.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
  int_work base; /* first: freed through it */
  char name[IF_NAMESIZE];
} delete_link;

static int netlink_socket(unsigned groups) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return -errno;
  /* an error ACK would otherwise carry the whole request back */
  int one = 1;
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  struct sockaddr_nl local = {.nl_family = AF_NETLINK, .nl_groups = groups};
  if (groups && bind(fd, (struct sockaddr *)&local, sizeof local) < 0) {
    int err = -errno;
    close(fd);
    return err;
  }
  return fd;
}

/* RTM_DELLINK for `index` on `sock`: the kernel's answer, 0 or -errno. */
static int delete_request(int sock, int index) {
  struct {
    struct nlmsghdr h;
    struct ifinfomsg i;
  } req = {
      .h = {.nlmsg_len = sizeof req, .nlmsg_type = RTM_DELLINK, .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK, .nlmsg_seq = 1},
      .i = {.ifi_family = AF_UNSPEC, .ifi_index = index},
  };
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  int result = -EIO;
  ssize_t n;
  do n = sendto(sock, &req, sizeof req, 0, (struct sockaddr *)&kernel, sizeof kernel); while (n < 0 && errno == EINTR);
  if (n < 0) result = -errno;
  while (n >= 0 && result == -EIO) {
    char buf[1024];
    do n = recv(sock, buf, sizeof buf, 0); while (n < 0 && errno == EINTR);
    if (n < 0) result = -errno;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; n > 0 && NLMSG_OK(h, n); h = NLMSG_NEXT(h, n))
      if (h->nlmsg_seq == 1 && h->nlmsg_type == NLMSG_ERROR) {
        result = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
        break;
      }
  }
  return result;
}

/* Whether `buf` holds the kernel's announcement that device `index` left the namespace. */
static bool announces_removal(const char *buf, ssize_t n, int index) {
  for (const struct nlmsghdr *h = (const struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n))
    if (h->nlmsg_type == RTM_DELLINK && ((const struct ifinfomsg *)NLMSG_DATA(h))->ifi_index == index) return true;
  return false;
}

static void *reap(void *pid) {
  waitpid((pid_t)(intptr_t)pid, NULL, 0);
  return NULL;
}

/* Waits for whichever comes first: the announcement on `events`, or the child's report on `report`. */
static int await_removal(int events, int report, int index) {
  struct pollfd fds[2] = {{.fd = events, .events = POLLIN}, {.fd = report, .events = POLLIN}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (fds[0].revents & POLLIN) {
      char buf[8192];
      ssize_t n = recv(events, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0 && announces_removal(buf, n, index)) return 0;
      /* ENOBUFS: announcements were lost (a busy namespace); the child's report still comes */
      if (n < 0 && errno == ENOBUFS) fds[0].fd = -1;
    }
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      int result;
      return read(report, &result, sizeof result) == sizeof result ? result : -EIO;
    }
  }
}

static int delete_link_unlisted(const char *name) {
  int index = (int)if_nametoindex(name);
  if (index == 0) return errno == ENODEV || errno == ENXIO ? -ENODEV : -errno;
  /* listening before the request is sent, so the announcement cannot be missed */
  int events = netlink_socket(RTMGRP_LINK);
  if (events < 0) return events;
  int sock = netlink_socket(0), report[2] = {-1, -1};
  if (sock < 0 || pipe2(report, O_CLOEXEC) < 0) {
    int err = sock < 0 ? sock : -errno;
    if (sock >= 0) close(sock);
    close(events);
    return err;
  }
  /* the child inherits an all-blocked mask: none of this process's signal handlers may run in it */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  /* fork without glibc's atfork handlers: the child makes system calls only */
  pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) {
    /* only what the request needs stays open: not the caller's stdout, which a CNI runtime reads to EOF
       (without close_range, before Linux 5.9, the caller just waits longer for EOF) */
    int keep[2] = {sock, report[1]};
    close_fds_except(0, keep, 2);
    int result = delete_request(sock, index);
    (void)!write(report[1], &result, sizeof result);
    _exit(0);
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  close(report[1]);
  int result;
  if (pid < 0) {
    /* no helper (a pids limit, say): this thread sits out the wait itself */
    result = delete_request(sock, index);
    close(sock);
  } else {
    close(sock);
    result = await_removal(events, report[0], index);
    pthread_t reaper;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    if (pthread_create(&reaper, &attr, reap, (void *)(intptr_t)pid) != 0) reap((void *)(intptr_t)pid);
    pthread_attr_destroy(&attr);
  }
  close(report[0]);
  close(events);
  return result;
}

static void run_delete(int_work *w) {
  w->result = delete_link_unlisted(((delete_link *)w)->name);
}

static napi_value js_rtnl_delete_link(napi_env env, napi_callback_info info) {
  size_t argc = 1, len = 0;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  delete_link *r = calloc(1, sizeof *r);
  if (!r) {
    napi_throw_error(env, NULL, "rtnlDeleteLink: out of memory");
    return NULL;
  }
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], NULL, 0, &len) != napi_ok || len == 0 ||
      len >= sizeof r->name || napi_get_value_string_utf8(env, argv[0], r->name, sizeof r->name, &len) != napi_ok) {
    free(r);
    napi_throw_type_error(env, NULL, "rtnlDeleteLink(name): name must be a device name of 1 to 15 characters");
    return NULL;
  }
  r->base.run = run_delete;
  return queue_int_work(env, "rtnlDeleteLink", &r->base);
}

void berth_init_rtnl(napi_env env, napi_value exports) {
  export_fn(env, exports, "rtnlDeleteLink", js_rtnl_delete_link);
}
