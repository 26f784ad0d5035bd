/* For the test programs: reads a launch plan's bytes from stdin and decodes them, or says why not and exits 2. */
#include "plan_decode.h"
#include <stdio.h>
#include <stdlib.h>

static struct plan *read_plan(struct plan_arena *arena) {
  size_t cap = 1 << 16, len = 0, got;
  unsigned char *buf = malloc(cap);
  while (buf && (got = fread(buf + len, 1, cap - len, stdin)) > 0) {
    len += got;
    if (len == cap) buf = realloc(buf, cap *= 2);
  }
  char err[256] = "out of memory";
  struct plan *p = buf ? plan_decode(buf, len, arena, err, sizeof err) : NULL;
  free(buf);
  if (!p) {
    fprintf(stderr, "%s\n", err);
    exit(2);
  }
  return p;
}
