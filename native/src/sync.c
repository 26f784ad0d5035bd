/* The child's side of the sync socket (sync.h). */
#include "sync.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

int sync_send(int fd, uint32_t type, int a, int b, int c, const char *payload, uint32_t len) {
  struct sync_msg m = {.type = type, .a = a, .b = b, .c = c, .len = len};
  char buf[sizeof m + 4096];
  if (len > 4096) len = m.len = 4096;
  memcpy(buf, &m, sizeof m);
  if (len) memcpy(buf + sizeof m, payload, len);
  size_t total = sizeof m + len, off = 0;
  while (off < total) {
    ssize_t n = send(fd, buf + off, total - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    off += (size_t)n;
  }
  return 0;
}

void sync_error(struct plan *p, enum step s, int err, int index, const char *detail) {
  const char *d = detail ? detail : "";
  if (p->ready || sync_send(p->sync_fd, MSG_ERROR, (int)s, err, index, d, (uint32_t)strlen(d)) != 0) {
    /* After `create` returned nobody reads the sync socket: say it on stderr instead. One write of a
       message formatted on the stack: dprintf may allocate, which a seccomp filter (or a malloc lock held
       by another of Node's threads at fork) can refuse. */
    char line[1024];
    int n = snprintf(line, sizeof line, "berth: container process: step %d: %s: %s\n", (int)s, d, strerror(err));
    if (n > 0) (void)!write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
  }
  _exit(127);
}

static int read_full(int fd, void *buf, size_t len) {
  size_t off = 0;
  while (off < len) {
    ssize_t n = read(fd, (char *)buf + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    off += (size_t)n;
  }
  return 0;
}

char *sync_wait_go(struct plan *p) {
  struct sync_msg m;
  if (read_full(p->sync_fd, &m, sizeof m) != 0) _exit(126); /* parent went away: stop quietly */
  char *payload = NULL;
  if (m.len) {
    /* mmap, not malloc: after fork from a multi-threaded process the malloc lock may be held */
    payload = mmap(NULL, (size_t)m.len + 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (payload == MAP_FAILED || read_full(p->sync_fd, payload, m.len) != 0) _exit(126);
    payload[m.len] = 0;
    if (p->ngo_payloads < 2) {
      p->go_payloads[p->ngo_payloads] = payload;
      p->go_payload_lens[p->ngo_payloads++] = (size_t)m.len + 1;
    }
  }
  if (m.type != MSG_GO) _exit(126);
  return payload;
}
