/*
 * The sync socket between the bootstrap (child) and the parent that answers it (lib/runtime/launcher.ts).
 * Every failure is reported as {step, errno, index, detail}. lib/runtime/bootstrap-steps.ts mirrors the
 * numbers; test/unit/bootstrap-protocol.test.ts compiles this header and checks that both agree.
 */
#ifndef BERTH_SYNC_H
#define BERTH_SYNC_H
#include "plan.h"

/* Steps: the parent maps these numbers to names and config fields (lib/runtime/bootstrap-steps.ts). */
enum step {
  STEP_NONE = 0, STEP_SETNS, STEP_USERNS, STEP_UNSHARE, STEP_TIMENS, STEP_CLONE, STEP_SYNC,
  STEP_CGROUPNS, STEP_HOSTNAME, STEP_DOMAINNAME, STEP_PROPAGATION, STEP_ROOTFS, STEP_MOUNT,
  STEP_MOUNTPOINT, STEP_DEVICE, STEP_SYMLINK, STEP_CONSOLE, STEP_HOOK, STEP_PIVOT, STEP_MASK,
  STEP_READONLY_PATH, STEP_READONLY_ROOT, STEP_SYSCTL, STEP_RLIMIT, STEP_OOM, STEP_PERSONALITY,
  STEP_GROUPS, STEP_SETGID, STEP_SETUID, STEP_UMASK, STEP_CWD, STEP_CAPS, STEP_NNP, STEP_SECCOMP,
  STEP_FIFO, STEP_LOOKUP, STEP_EXEC, STEP_STDIO, STEP_FDS, STEP_CGROUP,
};

/* Sync messages. Child -> parent: */
enum msg_type {
  MSG_NEED_MAPS = 1, /* a = pid whose uid/gid maps the parent must write */
  MSG_PID = 2,       /* a = the container process's pid (in the parent's pid namespace); payload: its
                        start time (/proc/<pid>/stat field 22) when the process could read it */
  MSG_MOUNTED = 3,   /* mounts done, before pivot_root: parent runs prestart/createRuntime hooks */
  MSG_READY = 4,     /* set up; waiting on the exec fifo (create) or about to execve (run) */
  MSG_ERROR = 5,     /* a = step, b = errno, c = index; payload = detail */
  /* Parent -> child: */
  MSG_GO = 10,       /* payload (optional): the state JSON given to container hooks */
  MSG_ABORT = 11,
};

struct sync_msg {
  uint32_t type;
  int32_t a, b, c;
  uint32_t len; /* payload bytes that follow */
};

int sync_send(int fd, uint32_t type, int a, int b, int c, const char *payload, uint32_t len);
/* Reports the failed step to the parent (or on stderr once READY was sent) and exits. */
void sync_error(struct plan *p, enum step s, int err, int index, const char *detail) __attribute__((noreturn));
/* Waits for MSG_GO; returns payload (mmapped, may be NULL) or exits on abort/EOF. */
char *sync_wait_go(struct plan *p);
#endif
