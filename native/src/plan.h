/*
 * The launch plan as the bootstrap reads it: plain data built in TypeScript (lib/runtime/plan.ts), decoded
 * from its bytes by plan_decode.c. No N-API here: the addon and the native front-end share it.
 */
#ifndef BERTH_PLAN_H
#define BERTH_PLAN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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
  /* cgroups the process moves itself into once the parent has made them (lib/cgroups/procs.ts
     selfJoin; before its first step, after the parent's GO when wait_placed): "0" to each v1 `tasks` file, which moves this one thread without the global threadgroup
     lock and so without its RCU grace period; the v2 directory is entered by the clone itself
     (CLONE_INTO_CGROUP) or, failing that, by "0" to its cgroup.procs */
  int ncgroup_tasks;
  char **cgroup_tasks;
  char *cgroup_v2;      /* NULL: none to join here */
  bool in_cgroup_v2;    /* set by the parent before clone3: the child already sits in cgroup_v2 */
  /* A network namespace made ahead of the launch (the server's pool, lib/server/netns-pool.ts), or -1: a
     direct clone enters it instead of making one with CLONE_NEWNET. Set by the front-end, not encoded. */
  int netns_fd;
  bool wait_placed;     /* wait for the parent's GO once the pid is known; false: it needs nothing first */
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

#endif
