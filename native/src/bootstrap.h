/*
 * The container bootstrap: a plain-data launch plan (built in TypeScript, see lib/runtime/plan.ts)
 * executed step by step in C by the cloned child, with no JavaScript after clone.
 * Every failure is reported to the parent as {step, errno, index, detail} on the sync socket.
 */
#ifndef BERTH_BOOTSTRAP_H
#define BERTH_BOOTSTRAP_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Steps: the parent maps these numbers to names and config fields (lib/runtime/bootstrap-steps.ts). */
enum step {
  STEP_NONE = 0, STEP_SETNS, STEP_USERNS, STEP_UNSHARE, STEP_TIMENS, STEP_CLONE, STEP_SYNC,
  STEP_CGROUPNS, STEP_HOSTNAME, STEP_DOMAINNAME, STEP_PROPAGATION, STEP_ROOTFS, STEP_MOUNT,
  STEP_MOUNTPOINT, STEP_DEVICE, STEP_SYMLINK, STEP_CONSOLE, STEP_HOOK, STEP_PIVOT, STEP_MASK,
  STEP_READONLY_PATH, STEP_READONLY_ROOT, STEP_SYSCTL, STEP_RLIMIT, STEP_OOM, STEP_PERSONALITY,
  STEP_GROUPS, STEP_SETGID, STEP_SETUID, STEP_UMASK, STEP_CWD, STEP_CAPS, STEP_NNP, STEP_SECCOMP,
  STEP_FIFO, STEP_LOOKUP, STEP_EXEC, STEP_STDIO, STEP_FDS,
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

struct mount_step {
  char *source, *target, *fstype, *data;
  unsigned long flags;        /* MS_* without propagation */
  unsigned long propagation[4]; /* MS_SHARED/SLAVE/PRIVATE/UNBINDABLE (| MS_REC), applied in order */
  int npropagation;
  bool bind;                  /* MS_BIND: needs a remount for the other flags */
  bool file;                  /* the mountpoint is a file (bind of a non-directory) */
  uint64_t attr_set, attr_clr; /* mount_setattr(AT_RECURSIVE) for rro and friends */
  int field_index;            /* index in config mounts[], or -1 for mounts berth adds */
};

struct device_step {
  char *path;     /* inside the container */
  mode_t mode;    /* S_IFCHR/S_IFBLK/S_IFIFO | permission bits */
  unsigned major, minor;
  uid_t uid;
  gid_t gid;
  bool bind;      /* bind the host node instead of mknod (user namespaces) */
  int field_index;
};

struct hook_step {
  char *path;
  char **args;
  char **env;
  int timeout; /* seconds, 0 = none */
  int field_index;
};

struct rlimit_step {
  int resource;
  uint64_t soft, hard;
};

struct plan {
  /* namespaces */
  int clone_flags;      /* CLONE_NEW* to create (except user) */
  bool new_userns;
  int njoin;
  int *join_types;      /* CLONE_NEW* of each path to join, user first */
  char **join_paths;
  char *time_offsets;   /* written to /proc/self/timens_offsets, or NULL */
  int sync_fd;

  /* root filesystem (rootfs == NULL: exec into an existing container, no mount work) */
  char *rootfs;
  unsigned long root_propagation; /* applied to / after pivot (0 = leave slave) */
  bool no_pivot;
  bool readonly_root;
  bool pause_after_mounts; /* send MSG_MOUNTED and wait (prestart/createRuntime hooks) */
  int nmounts;
  struct mount_step *mounts;
  int ndevices;
  struct device_step *devices;
  bool default_links;   /* /dev/fd, stdin, stdout, stderr, ptmx, core */
  int nmasked;
  char **masked;
  int nreadonly;
  char **readonly;
  char *hostname, *domainname;
  int nsysctl;
  char **sysctl_keys, **sysctl_values;

  /* process */
  char **args;          /* = exec_argv + 1 */
  char **exec_argv;     /* [program found on PATH, args...]: what the exec shim is given */
  int exec_shim_fd;     /* the sealed exec shim (exec_shim_fd.c), executed as the very last step */
  char **env;
  char *cwd;
  uid_t uid;
  gid_t gid;
  int ngroups;
  gid_t *groups;
  bool set_groups;      /* false in user namespaces without setgroups permission */
  int umask;            /* -1: unchanged */
  int nrlimits;
  struct rlimit_step *rlimits;
  bool has_caps;
  uint64_t cap_bounding, cap_effective, cap_inheritable, cap_permitted, cap_ambient;
  bool no_new_privs;
  bool has_oom;
  int oom_score_adj;
  long personality;     /* -1: unchanged */
  unsigned char *seccomp; /* struct sock_filter[] */
  size_t seccomp_len;   /* bytes */
  unsigned seccomp_flags;
  bool terminal;
  int console_socket;   /* -1 when none */
  unsigned short console_rows, console_cols;
  char *exec_fifo;      /* wait here until `start`; NULL: exec at once */
  int fifo_fd;          /* O_PATH fd of exec_fifo, opened before pivot_root */
  int preserve_fds;
  int stdio[3];         /* fds to become 0,1,2, or -1 to keep */
  int ncreate_hooks, nstart_hooks;
  struct hook_step *create_hooks, *start_hooks;
  bool setsid;
  bool ready;           /* READY was sent: the parent may be gone, report errors on stderr */

  /* The bootstrap's own working state. It lives here, not in statics: a child cloned with CLONE_VM
     shares this process's memory, and several may be setting up at once. */
  int rootfd;           /* O_PATH fd of rootfs while mounting */
  char exe_path[4096];  /* the program found on PATH */
  bool report_pid;      /* vfork launch: the child sends MSG_PID itself (nobody else knows it yet) */
  pid_t child_pid;      /* written by the kernel at clone (CLONE_PARENT_SETTID), read by the child */
  void *go_payloads[2]; /* MSG_GO payloads mmapped by a CLONE_VM child: the parent unmaps them */
  size_t go_payload_lens[2];
  int ngo_payloads;
};

/* bootstrap.c */
void sync_error(struct plan *p, enum step s, int err, int index, const char *detail) __attribute__((noreturn));
int sync_send(int fd, uint32_t type, int a, int b, int c, const char *payload, uint32_t len);
/*
 * Closes every descriptor from `from` up except those in keep[0..n) (sorted in place). Runs in forked
 * children: system calls only, no allocation.
 */
void close_fds_except(unsigned from, int *keep, int n);
/* Waits for MSG_GO; returns payload (malloc'd, may be NULL) or exits on abort/EOF. */
char *sync_wait_go(struct plan *p);
int stage1_main(struct plan *p);
/* The container process cloned straight from the caller (no namespace to join, no user namespace). */
void direct_main(struct plan *p) __attribute__((noreturn));

/* bootstrap_rootfs.c */
void setup_rootfs_before_hooks(struct plan *p);
void setup_rootfs_after_hooks(struct plan *p);

/* bootstrap_process.c */
void setup_console(struct plan *p);
void run_hooks(struct plan *p, struct hook_step *hooks, int n, const char *state, const char *field);
void finish_and_exec(struct plan *p, const char *hook_state) __attribute__((noreturn));
#endif
