#include "fdutil.h"
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

void close_fds_except(unsigned from, int *keep, int n) {
  qsort(keep, (size_t)n, sizeof(int), cmp_int);
  for (int i = 0; i < n; i++) {
    if (keep[i] < (int)from) continue;
    if ((unsigned)keep[i] > from) syscall(SYS_close_range, from, (unsigned)keep[i] - 1, 0);
    from = (unsigned)keep[i] + 1;
  }
  syscall(SYS_close_range, from, ~0U, 0);
}
