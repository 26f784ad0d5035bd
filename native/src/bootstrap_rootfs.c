/*
 * Root filesystem steps of the bootstrap. Every path inside the container's root is resolved with
 * openat2(RESOLVE_IN_ROOT) and mounted through /proc/self/fd/N, so symlinks planted in the rootfs can
 * never send a mount or a device node outside it (the CVE-2021-30465 class).
 */
#include "bootstrap_rootfs.h"
#include "sync.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int open_in_root(int rootfd, const char *path, int flags) {
  while (*path == '/') path++;
  struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  return (int)syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof how);
}

/* Makes `name` in the directory `parent`: a directory, or an empty file if asked. -1 with errno. */
static int make_entry(int parent, const char *name, bool file) {
  if (!file) return mkdirat(parent, name, 0755);
  int fd = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd >= 0) close(fd);
  return fd < 0 ? -1 : 0;
}

/*
 * The usual case, a mountpoint whose parent exists: made there, without opening every component from the
 * root. 1 when it was not that case (the parent is missing, or the path has no plain last component).
 */
static int make_leaf_in_root(int rootfd, char *buf, bool last_is_file) {
  size_t len = strlen(buf);
  while (len > 1 && buf[len - 1] == '/') buf[--len] = 0;
  char *slash = strrchr(buf, '/');
  const char *name = slash ? slash + 1 : buf;
  if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return 1;
  int parent;
  if (slash) {
    *slash = 0;
    parent = open_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
    *slash = '/';
  } else {
    parent = open_in_root(rootfd, "/", O_PATH | O_DIRECTORY);
  }
  if (parent < 0) return 1;
  int rc = make_entry(parent, name, last_is_file);
  int err = errno;
  close(parent);
  /* EEXIST: a dangling symlink, reported by the caller's open */
  return rc < 0 && err != EEXIST ? (errno = err, -1) : 0;
}

/* Creates every missing directory of `path` inside the root, and the last component as a file if asked. */
static int mkdir_all_in_root(int rootfd, const char *path, bool last_is_file) {
  char buf[4096];
  size_t len = strlen(path);
  if (len >= sizeof buf) return errno = ENAMETOOLONG, -1;
  memcpy(buf, path, len + 1);
  int leaf = make_leaf_in_root(rootfd, buf, last_is_file);
  if (leaf <= 0) return leaf;
  memcpy(buf, path, len + 1);
  for (char *end = buf; ; ) {
    while (*end == '/') end++;
    if (!*end) return 0;
    char *next = strchr(end, '/');
    bool last = next == NULL || next[strspn(next, "/")] == 0;
    char saved = next ? *next : 0;
    if (next) *next = 0;
    int fd = open_in_root(rootfd, buf, O_PATH);
    if (fd >= 0) {
      close(fd);
    } else if (errno == ENOENT) {
      char *slash = strrchr(buf, '/');
      char *name = slash ? slash + 1 : buf;
      int parent;
      if (slash && slash != buf) {
        *slash = 0;
        parent = open_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
        *slash = '/';
      } else {
        parent = open_in_root(rootfd, "/", O_PATH | O_DIRECTORY);
      }
      if (parent < 0) return -1;
      int rc = make_entry(parent, name, last && last_is_file);
      int err = errno;
      close(parent);
      if (rc < 0 && err != EEXIST) return errno = err, -1;
      /* EEXIST after ENOENT: a dangling symlink; the final open_in_root will report it */
    } else {
      return -1;
    }
    if (!next) return 0;
    *next = saved;
    end = next;
  }
}

static void fd_path(char *buf, size_t size, int fd) { snprintf(buf, size, "/proc/self/fd/%d", fd); }

/* A container without a mount namespace of its own (none created, none joined) lives in the caller's. */
static bool own_mount_namespace(struct plan *p) {
  if (p->clone_flags & CLONE_NEWNS) return true;
  for (int i = 0; i < p->njoin; i++)
    if (p->join_types[i] == CLONE_NEWNS) return true;
  return false;
}

/*
 * runc's rule for proc and sysfs: the target must be an ordinary directory, never a symlink (a link would
 * send the mount wherever it points). Checked on the descriptor the mount then goes through: no window
 * for the rootfs to swap it.
 */
static void check_pseudo_fs_target(struct plan *p, struct mount_step *m, int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) sync_error(p, STEP_MOUNTPOINT, errno, m->field_index, m->target);
  if (!S_ISDIR(st.st_mode)) {
    char detail[4200];
    snprintf(detail, sizeof detail, "%s: filesystem \"%s\" must be mounted on ordinary directory", m->target, m->fstype);
    sync_error(p, STEP_MOUNT, 0, m->field_index, detail);
  }
}

/* Mount flags a user namespace locks on a bind mount: a remount must repeat them or fail with EPERM. */
static unsigned long locked_flags(const char *path) {
  struct statvfs st;
  if (statvfs(path, &st) != 0) return 0;
  unsigned long f = 0;
  if (st.f_flag & ST_RDONLY) f |= MS_RDONLY;
  if (st.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) f |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (st.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

static void do_mount(struct plan *p, int i) {
  struct mount_step *m = &p->mounts[i];
  int idx = m->field_index;
  const char *dest = m->target;
  while (*dest == '/') dest++;
  if (strcmp(dest, "proc") == 0 && (!m->fstype || strcmp(m->fstype, "proc") != 0))
    sync_error(p, STEP_MOUNT, EINVAL, idx, "/proc may only receive a procfs mount");
  bool pseudo = !m->bind && m->fstype && (strcmp(m->fstype, "proc") == 0 || strcmp(m->fstype, "sysfs") == 0);
  int open_flags = O_PATH | (pseudo ? O_NOFOLLOW : 0);
  /* Usually the mountpoint is there already: one open, not one per component of its path. */
  int fd = open_in_root(p->rootfd, m->target, open_flags);
  if (fd < 0) {
    if (mkdir_all_in_root(p->rootfd, m->target, m->file) != 0) sync_error(p, STEP_MOUNTPOINT, errno, idx, m->target);
    fd = open_in_root(p->rootfd, m->target, open_flags);
    if (fd < 0) sync_error(p, STEP_MOUNTPOINT, errno, idx, m->target);
  }
  if (pseudo) check_pseudo_fs_target(p, m, fd);
  char path[64];
  fd_path(path, sizeof path, fd);
  if (m->bind) {
    if (mount(m->source, path, NULL, MS_BIND | (m->flags & MS_REC), NULL) != 0)
      sync_error(p, STEP_MOUNT, errno, idx, m->source);
  } else if (mount(m->source, path, m->fstype, m->flags, m->data) != 0) {
    sync_error(p, STEP_MOUNT, errno, idx, m->target);
  }
  close(fd);
  unsigned long extra = m->flags & ~(MS_BIND | MS_REC);
  if (!(m->bind && extra) && !m->npropagation && !m->attr_set && !m->attr_clr) return;
  /* Reopen: the new mount now covers the old directory. */
  fd = open_in_root(p->rootfd, m->target, O_PATH);
  if (fd < 0) sync_error(p, STEP_MOUNT, errno, idx, m->target);
  fd_path(path, sizeof path, fd);
  if (m->bind && extra) {
    unsigned long keep = p->new_userns ? locked_flags(path) : 0;
    if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | extra | keep, NULL) != 0)
      sync_error(p, STEP_MOUNT, errno, idx, "remount of bind mount");
  }
  for (int j = 0; j < m->npropagation; j++)
    if (mount(NULL, path, NULL, m->propagation[j], NULL) != 0)
      sync_error(p, STEP_MOUNT, errno, idx, "mount propagation");
  if (m->attr_set || m->attr_clr) {
    struct mount_attr attr = {.attr_set = m->attr_set, .attr_clr = m->attr_clr};
    if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0)
      sync_error(p, STEP_MOUNT, errno, idx, "mount_setattr");
  }
  close(fd);
}

static void make_device(struct plan *p, int i) {
  struct device_step *d = &p->devices[i];
  char parent_path[4096];
  snprintf(parent_path, sizeof parent_path, "%s", d->path);
  char *slash = strrchr(parent_path, '/');
  const char *name = slash ? slash + 1 : parent_path;
  if (slash) *slash = 0;
  /* the parent (/dev) is usually there: made only when the open says it is not */
  int parent = open_in_root(p->rootfd, parent_path, O_PATH | O_DIRECTORY);
  if (parent < 0 && errno == ENOENT) {
    if (mkdir_all_in_root(p->rootfd, parent_path, false) != 0) sync_error(p, STEP_DEVICE, errno, d->field_index, d->path);
    parent = open_in_root(p->rootfd, parent_path, O_PATH | O_DIRECTORY);
  }
  if (parent < 0) sync_error(p, STEP_DEVICE, errno, d->field_index, d->path);
  if (d->bind) {
    int fd = openat(parent, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0000);
    if (fd < 0) sync_error(p, STEP_DEVICE, errno, d->field_index, d->path);
    close(fd);
    int target = open_in_root(p->rootfd, d->path, O_PATH | O_NOFOLLOW);
    char path[64];
    fd_path(path, sizeof path, target);
    if (target < 0 || mount(d->path, path, NULL, MS_BIND, NULL) != 0)
      sync_error(p, STEP_DEVICE, errno, d->field_index, d->path);
    close(target);
  } else {
    if (mknodat(parent, name, d->mode, makedev(d->major, d->minor)) != 0) {
      if (errno != EEXIST) sync_error(p, STEP_DEVICE, errno, d->field_index, d->path);
      if (unlinkat(parent, name, 0) != 0 || mknodat(parent, name, d->mode, makedev(d->major, d->minor)) != 0)
        sync_error(p, STEP_DEVICE, errno, d->field_index, d->path);
    }
    /* mknod applies the umask; set the exact mode and owner */
    if (fchmodat(parent, name, d->mode & 07777, 0) != 0 ||
        fchownat(parent, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) != 0)
      sync_error(p, STEP_DEVICE, errno, d->field_index, d->path);
  }
  close(parent);
}

static void default_links(struct plan *p) {
  static const char *links[][2] = {
    {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
    {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},
  };
  int dev = open_in_root(p->rootfd, "/dev", O_PATH | O_DIRECTORY);
  if (dev < 0) return;
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
    if (strcmp(links[i][1], "ptmx") == 0) unlinkat(dev, "ptmx", 0);
    if (symlinkat(links[i][0], dev, links[i][1]) != 0 && errno != EEXIST)
      sync_error(p, STEP_SYMLINK, errno, -1, links[i][1]);
  }
  if (access("/proc/kcore", F_OK) == 0) symlinkat("/proc/kcore", dev, "core");
  close(dev);
}

void setup_rootfs_before_hooks(struct plan *p) {
  bool own_ns = own_mount_namespace(p);
  /* Nothing we mount may propagate back to the host. Without a mount namespace of its own the caller's
     mounts keep their propagation: only the container's own rootfs bind (below) is made a slave. */
  if (own_ns && mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) != 0) sync_error(p, STEP_PROPAGATION, errno, -1, "/");
  if (mount(p->rootfs, p->rootfs, NULL, MS_BIND | MS_REC, NULL) != 0)
    sync_error(p, STEP_ROOTFS, errno, -1, p->rootfs);
  if (!own_ns && mount(NULL, p->rootfs, NULL, MS_SLAVE | MS_REC, NULL) != 0)
    sync_error(p, STEP_PROPAGATION, errno, -1, p->rootfs);
  p->rootfd = open(p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (p->rootfd < 0) sync_error(p, STEP_ROOTFS, errno, -1, p->rootfs);
  for (int i = 0; i < p->nmounts; i++) do_mount(p, i);
  for (int i = 0; i < p->ndevices; i++) make_device(p, i);
  if (p->default_links) default_links(p);
}

static void pivot(struct plan *p) {
  if (fchdir(p->rootfd) != 0) sync_error(p, STEP_PIVOT, errno, -1, p->rootfs);
  if (!own_mount_namespace(p)) {
    /* runc's jail without a mount namespace: chroot only. pivot_root or MS_MOVE would rearrange the
       caller's own mount tree. */
    if (chroot(".") != 0) sync_error(p, STEP_PIVOT, errno, -1, "chroot");
  } else if (p->no_pivot) {
    if (mount(".", "/", NULL, MS_MOVE, NULL) != 0) sync_error(p, STEP_PIVOT, errno, -1, "move root");
    if (chroot(".") != 0) sync_error(p, STEP_PIVOT, errno, -1, "chroot");
  } else {
    /* pivot_root(".", ".") stacks the old root on the new one; detach it from there. */
    if (syscall(SYS_pivot_root, ".", ".") != 0) sync_error(p, STEP_PIVOT, errno, -1, "pivot_root");
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) != 0) sync_error(p, STEP_PIVOT, errno, -1, "old root");
    if (umount2(".", MNT_DETACH) != 0) sync_error(p, STEP_PIVOT, errno, -1, "umount old root");
  }
  if (chdir("/") != 0) sync_error(p, STEP_PIVOT, errno, -1, "chdir /");
  close(p->rootfd);
  p->rootfd = -1;
}

static void mask_paths(struct plan *p) {
  for (int i = 0; i < p->nmasked; i++) {
    struct stat st;
    if (lstat(p->masked[i], &st) != 0) {
      if (errno == ENOENT) continue;
      sync_error(p, STEP_MASK, errno, i, p->masked[i]);
    }
    int rc = S_ISDIR(st.st_mode) ? mount("tmpfs", p->masked[i], "tmpfs", MS_RDONLY, NULL)
                                 : mount("/dev/null", p->masked[i], NULL, MS_BIND, NULL);
    if (rc != 0) sync_error(p, STEP_MASK, errno, i, p->masked[i]);
  }
}

static void readonly_paths(struct plan *p) {
  for (int i = 0; i < p->nreadonly; i++) {
    const char *path = p->readonly[i];
    if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) != 0) {
      if (errno == ENOENT) continue;
      sync_error(p, STEP_READONLY_PATH, errno, i, path);
    }
    unsigned long keep = locked_flags(path);
    if (mount(path, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | keep, NULL) != 0)
      sync_error(p, STEP_READONLY_PATH, errno, i, path);
  }
}

static void write_sysctls(struct plan *p) {
  for (int i = 0; i < p->nsysctl; i++) {
    int fd = open(p->sysctl_keys[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0) sync_error(p, STEP_SYSCTL, errno, i, p->sysctl_keys[i]);
    size_t len = strlen(p->sysctl_values[i]);
    if (write(fd, p->sysctl_values[i], len) != (ssize_t)len) sync_error(p, STEP_SYSCTL, errno, i, p->sysctl_keys[i]);
    close(fd);
  }
}

/*
 * runc creates a missing process.cwd (mkdir -p, 0755, owned by the container's root) once the hooks have
 * run. Resolved in the root with openat2 like every other path here: a component that is a symlink stays
 * inside, and one through a magic link (/proc/self/fd/N, CVE-2024-21626) is refused with ELOOP.
 */
static void make_cwd(struct plan *p) {
  int fd = open_in_root(p->rootfd, p->cwd, O_PATH | O_DIRECTORY);
  if (fd >= 0) {
    close(fd);
    return;
  }
  if (errno != ENOENT || mkdir_all_in_root(p->rootfd, p->cwd, false) != 0) sync_error(p, STEP_CWD, errno, -1, p->cwd);
}

void setup_rootfs_after_hooks(struct plan *p) {
  if (p->cwd) make_cwd(p);
  pivot(p);
  if (p->root_propagation && mount(NULL, "/", NULL, p->root_propagation, NULL) != 0)
    sync_error(p, STEP_PROPAGATION, errno, -1, "linux.rootfsPropagation");
  /* runc's order: sysctls while /proc/sys is writable, then read-only paths, then masks */
  write_sysctls(p);
  readonly_paths(p);
  mask_paths(p);
  if (p->readonly_root) {
    unsigned long keep = locked_flags("/");
    if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) != 0)
      sync_error(p, STEP_READONLY_ROOT, errno, -1, "/");
  }
}
