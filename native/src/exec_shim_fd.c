/*
 * The exec shim (native/src/exec_shim.c) in a sealed memfd, made once per process. Every container
 * process this process launches execs it with execveat(fd, "", ..., AT_EMPTY_PATH) as the bootstrap's
 * last step, so that /proc/self/exe inside the container names the sealed shim, never the host's node.
 * Sealed against writes, growth and shrinking (and further sealing): a container that opens it through
 * /proc/<pid>/exe cannot change what the next container of this process runs. A copy of node itself
 * (runc 1.1's answer) is out of the question at ~100 MB per process; the shim is a few KB.
 */
#include "exec_shim_fd.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>
#include "exec_shim_bytes.h" /* generated: exec_shim_elf[] (native/tools/embed-exec-shim.js) */

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int shim_fd = -1;
static int shim_errno;

static int make(void) {
  /* MFD_EXEC: executable even where vm.memfd_noexec asks for non-executable memfds; kernels before 6.3
     do not know the flag and refuse it, and make every memfd executable anyway. */
  int fd = memfd_create("berth-exec-shim", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) fd = memfd_create("berth-exec-shim", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -1;
  size_t off = 0;
  while (off < sizeof exec_shim_elf) {
    ssize_t n = write(fd, exec_shim_elf + off, sizeof exec_shim_elf - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) goto fail;
    off += (size_t)n;
  }
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0) goto fail;
  /* the mode cannot change either (6.3+; older kernels have no such seal) */
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_EXEC) != 0 && errno != EINVAL && errno != EPERM) goto fail;
  return fd;
fail:;
  int err = errno;
  close(fd);
  errno = err;
  return -1;
}

static void init(void) {
  shim_fd = make();
  if (shim_fd < 0) shim_errno = errno;
}

int exec_shim_fd(void) {
  pthread_once(&once, init);
  if (shim_fd < 0) errno = shim_errno;
  return shim_fd;
}
