/*
 * The launch plan's bytes into struct plan (layout: lib/runtime/plan-codec.ts). All memory comes from one
 * arena, allocated before any fork: the child reads the plan and allocates nothing.
 */
#include "plan_decode.h"
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NULL_LENGTH 0xffffffffu
#define HEADER_SIZE 12

struct plan_chunk {
  struct plan_chunk *next;
  size_t size, used;
  _Alignas(16) unsigned char data[];
};

static void *arena_alloc(struct plan_arena *a, size_t n, size_t hint) {
  n = (n + 15) & ~(size_t)15;
  struct plan_chunk *c = a->chunks;
  if (!c || c->size - c->used < n) {
    size_t size = n > hint ? n : hint;
    c = malloc(sizeof *c + size);
    if (!c) return NULL;
    c->next = a->chunks;
    c->size = size;
    c->used = 0;
    a->chunks = c;
  }
  void *out = c->data + c->used;
  c->used += n;
  memset(out, 0, n);
  return out;
}

void plan_arena_free(struct plan_arena *a) {
  while (a->chunks) {
    struct plan_chunk *next = a->chunks->next;
    free(a->chunks);
    a->chunks = next;
  }
}

typedef struct {
  const unsigned char *at, *end;
  struct plan_arena *arena;
  size_t hint;
  bool failed;
  char *err;
  size_t errlen;
} reader;

static void fail(reader *r, const char *fmt, ...) {
  if (r->failed) return;
  r->failed = true;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->err, r->errlen, fmt, ap);
  va_end(ap);
  r->at = r->end; /* every later read fails quietly */
}

static void *alloc(reader *r, size_t n, size_t size) {
  void *out = NULL;
  if (!r->failed && (n == 0 || size <= SIZE_MAX / n)) out = arena_alloc(r->arena, (n ? n : 1) * size, r->hint);
  if (!out) fail(r, "launch plan: out of memory");
  return out;
}

static bool take(reader *r, size_t n, const char *field) {
  if (r->failed) return false;
  if ((size_t)(r->end - r->at) < n) {
    fail(r, "plan.%s: truncated", field);
    return false;
  }
  return true;
}

static uint32_t u32(reader *r, const char *field) {
  if (!take(r, 4, field)) return 0;
  const unsigned char *b = r->at;
  r->at += 4;
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t u64(reader *r, const char *field) {
  uint64_t lo = u32(r, field);
  return lo | (uint64_t)u32(r, field) << 32;
}

static bool boolean(reader *r, const char *field) {
  if (!take(r, 1, field)) return false;
  unsigned char v = *r->at++;
  if (v > 1) fail(r, "plan.%s: %u is not a boolean", field, v);
  return v == 1;
}

/* An i64 that must fit [min, max], the range of the C field it goes to. */
static int64_t num(reader *r, const char *field, int64_t min, int64_t max) {
  int64_t v = (int64_t)u64(r, field);
  if (!r->failed && (v < min || v > max))
    fail(r, "plan.%s: %lld is out of range [%lld, %lld]", field, (long long)v, (long long)min, (long long)max);
  return v;
}

#define INT_FIELD(r, f) ((int)num((r), (f), INT_MIN, INT_MAX))
#define UINT_FIELD(r, f) ((unsigned)num((r), (f), 0, UINT_MAX))

/* A string (NUL-terminated copy in the arena) or NULL when absent; `required` refuses an absent one. */
static char *str(reader *r, const char *field, bool required) {
  uint32_t n = u32(r, field);
  if (r->failed) return NULL;
  if (n == NULL_LENGTH) {
    if (required) fail(r, "plan.%s: missing", field);
    return NULL;
  }
  if (!take(r, n, field)) return NULL;
  if (memchr(r->at, 0, n)) {
    fail(r, "plan.%s: contains a NUL byte", field);
    return NULL;
  }
  char *s = alloc(r, (size_t)n + 1, 1);
  if (!s) return NULL;
  memcpy(s, r->at, n);
  r->at += n;
  return s;
}

/* A count of items that each take at least `min_item` bytes: a count the buffer cannot hold is refused
   before anything is allocated for it. */
static uint32_t count(reader *r, const char *field, size_t min_item) {
  uint32_t n = u32(r, field);
  if (!r->failed && (size_t)(r->end - r->at) / min_item < n) fail(r, "plan.%s: %u items cannot fit", field, n);
  return r->failed ? 0 : n;
}

/* A NULL-terminated string vector (for execve), after `lead` empty slots. */
static char **strv_after(reader *r, const char *field, int *n_out, uint32_t lead) {
  uint32_t n = count(r, field, 4);
  char **v = alloc(r, (size_t)n + lead + 1, sizeof(char *));
  if (!v) return NULL;
  v += lead;
  for (uint32_t i = 0; i < n; i++) v[i] = str(r, field, true);
  if (n_out) *n_out = (int)n;
  return v;
}

static char **strv(reader *r, const char *field, int *n_out) { return strv_after(r, field, n_out, 0); }

static struct hook_step *hooks(reader *r, const char *field, int *n_out) {
  uint32_t n = count(r, field, 4 * 3 + 8 * 2);
  struct hook_step *h = alloc(r, n, sizeof *h);
  for (uint32_t i = 0; h && i < n; i++) {
    h[i].path = str(r, field, true);
    h[i].args = strv(r, field, NULL);
    h[i].env = strv(r, field, NULL);
    h[i].timeout = INT_FIELD(r, field);
    h[i].field_index = INT_FIELD(r, field);
  }
  *n_out = (int)n;
  return h;
}

static void mounts(reader *r, struct plan *p) {
  uint32_t n = count(r, "mounts", 4 * 5 + 8 * 4 + 2);
  p->nmounts = (int)n;
  p->mounts = alloc(r, n, sizeof *p->mounts);
  for (uint32_t i = 0; p->mounts && i < n; i++) {
    struct mount_step *m = &p->mounts[i];
    m->source = str(r, "mounts.source", false);
    m->target = str(r, "mounts.target", true);
    m->fstype = str(r, "mounts.fstype", false);
    m->flags = (unsigned long)num(r, "mounts.flags", 0, UINT32_MAX);
    uint32_t np = count(r, "mounts.propagation", 8);
    for (uint32_t j = 0; j < np; j++) {
      unsigned long f = (unsigned long)num(r, "mounts.propagation", 0, UINT32_MAX);
      /* four at most, as before the encoding: later ones would only repeat a kind already applied */
      if (j < 4) m->propagation[j] = f;
    }
    m->npropagation = np > 4 ? 4 : (int)np;
    m->data = str(r, "mounts.data", false);
    m->bind = boolean(r, "mounts.bind");
    m->file = boolean(r, "mounts.file");
    m->attr_set = u64(r, "mounts.attrSet");
    m->attr_clr = u64(r, "mounts.attrClr");
    m->field_index = INT_FIELD(r, "mounts.index");
  }
}

static void devices(reader *r, struct plan *p) {
  uint32_t n = count(r, "devices", 4 + 8 * 7 + 1);
  p->ndevices = (int)n;
  p->devices = alloc(r, n, sizeof *p->devices);
  for (uint32_t i = 0; p->devices && i < n; i++) {
    struct device_step *d = &p->devices[i];
    d->path = str(r, "devices.path", true);
    d->mode = (mode_t)num(r, "devices.mode", 0, UINT32_MAX);
    d->major = UINT_FIELD(r, "devices.major");
    d->minor = UINT_FIELD(r, "devices.minor");
    d->uid = (uid_t)num(r, "devices.uid", 0, UINT32_MAX);
    d->gid = (gid_t)num(r, "devices.gid", 0, UINT32_MAX);
    d->bind = boolean(r, "devices.bind");
    d->field_index = INT_FIELD(r, "devices.index");
  }
}

static void decode_fields(reader *r, struct plan *p) {
  p->clone_flags = INT_FIELD(r, "cloneFlags");
  p->new_userns = boolean(r, "newUserns");
  uint32_t nj = count(r, "join", 8 + 4);
  p->njoin = (int)nj;
  p->join_types = alloc(r, (size_t)nj + 1, sizeof(int));
  p->join_paths = alloc(r, (size_t)nj + 1, sizeof(char *));
  for (uint32_t i = 0; p->join_types && p->join_paths && i < nj; i++) {
    p->join_types[i] = INT_FIELD(r, "join.type");
    p->join_paths[i] = str(r, "join.path", true);
  }
  p->time_offsets = str(r, "timeOffsets", false);
  p->sync_fd = (int)num(r, "syncFd", -1, INT_MAX);

  p->rootfs = str(r, "rootfs", false);
  p->root_propagation = (unsigned long)num(r, "rootPropagation", 0, UINT32_MAX);
  p->no_pivot = boolean(r, "noPivot");
  p->readonly_root = boolean(r, "readonlyRoot");
  p->pause_after_mounts = boolean(r, "pauseAfterMounts");
  mounts(r, p);
  devices(r, p);
  p->default_links = boolean(r, "defaultLinks");
  p->masked = strv(r, "maskedPaths", &p->nmasked);
  p->readonly = strv(r, "readonlyPaths", &p->nreadonly);
  p->hostname = str(r, "hostname", false);
  p->domainname = str(r, "domainname", false);
  p->sysctl_keys = strv(r, "sysctlPaths", &p->nsysctl);
  int nvalues = 0;
  p->sysctl_values = strv(r, "sysctlValues", &nvalues);
  if (nvalues != p->nsysctl) fail(r, "plan.sysctlValues: length differs from sysctlPaths");

  /* one slot in front for the exec shim's first argument, the path of the program (set in the child) */
  p->args = strv_after(r, "args", NULL, 1);
  if (p->args) {
    p->exec_argv = p->args - 1;
    if (!r->failed && !p->args[0]) fail(r, "plan.args: empty");
  }
  p->env = strv(r, "env", NULL);
  p->cwd = str(r, "cwd", false);
  if (!p->cwd && !r->failed) p->cwd = "/";
  p->uid = (uid_t)num(r, "uid", 0, UINT32_MAX);
  p->gid = (gid_t)num(r, "gid", 0, UINT32_MAX);
  uint32_t ng = count(r, "additionalGids", 8);
  p->ngroups = (int)ng;
  p->groups = alloc(r, (size_t)ng + 1, sizeof(gid_t));
  for (uint32_t i = 0; p->groups && i < ng; i++) p->groups[i] = (gid_t)num(r, "additionalGids", 0, UINT32_MAX);
  p->set_groups = boolean(r, "setGroups");
  p->umask = INT_FIELD(r, "umask");
  uint32_t nr = count(r, "rlimits", 8 * 3);
  p->nrlimits = (int)nr;
  p->rlimits = alloc(r, (size_t)nr + 1, sizeof *p->rlimits);
  for (uint32_t i = 0; p->rlimits && i < nr; i++) {
    p->rlimits[i].resource = INT_FIELD(r, "rlimits.resource");
    p->rlimits[i].soft = u64(r, "rlimits.soft");
    p->rlimits[i].hard = u64(r, "rlimits.hard");
  }
  p->has_caps = boolean(r, "capabilities");
  if (p->has_caps) {
    p->cap_bounding = u64(r, "capabilities.bounding");
    p->cap_effective = u64(r, "capabilities.effective");
    p->cap_inheritable = u64(r, "capabilities.inheritable");
    p->cap_permitted = u64(r, "capabilities.permitted");
    p->cap_ambient = u64(r, "capabilities.ambient");
  }
  p->no_new_privs = boolean(r, "noNewPrivileges");
  p->has_oom = boolean(r, "oomScoreAdj");
  p->oom_score_adj = INT_FIELD(r, "oomScoreAdj");
  p->personality = (long)num(r, "personality", -1, UINT32_MAX);
  uint32_t sl = u32(r, "seccomp");
  if (sl != NULL_LENGTH && take(r, sl, "seccomp")) {
    if (sl % 8) fail(r, "plan.seccomp: %u bytes is not a whole number of sock_filter", sl);
    p->seccomp = alloc(r, sl, 1);
    if (p->seccomp) memcpy(p->seccomp, r->at, sl);
    p->seccomp_len = sl;
    r->at += sl;
  }
  p->seccomp_flags = UINT_FIELD(r, "seccompFlags");
  p->terminal = boolean(r, "terminal");
  p->console_socket = (int)num(r, "consoleSocketFd", -1, INT_MAX);
  p->console_rows = (unsigned short)num(r, "consoleRows", 0, USHRT_MAX);
  p->console_cols = (unsigned short)num(r, "consoleCols", 0, USHRT_MAX);
  p->exec_fifo = str(r, "execFifo", false);
  p->preserve_fds = (int)num(r, "preserveFds", 0, INT_MAX);
  for (int i = 0; i < 3; i++) p->stdio[i] = (int)num(r, "stdio", -1, INT_MAX);
  p->create_hooks = hooks(r, "createContainerHooks", &p->ncreate_hooks);
  p->start_hooks = hooks(r, "startContainerHooks", &p->nstart_hooks);
  p->setsid = boolean(r, "setsid");
  p->cgroup_tasks = strv(r, "cgroupTasks", &p->ncgroup_tasks);
  p->cgroup_v2 = str(r, "cgroupV2", false);
  p->wait_placed = boolean(r, "waitPlaced");
}

struct plan *plan_decode(const void *bytes, size_t len, struct plan_arena *arena, char *err, size_t errlen) {
  const unsigned char *b = bytes;
  reader r = {.at = b, .end = b + len, .arena = arena, .hint = sizeof(struct plan) + 2 * len + 1024,
              .err = err, .errlen = errlen};
  if (len < HEADER_SIZE || memcmp(b, PLAN_MAGIC, 4) != 0) {
    snprintf(err, errlen, "launch plan: not a berth launch plan (no %s header)", PLAN_MAGIC);
    return NULL;
  }
  if (b[4] != PLAN_VERSION) {
    snprintf(err, errlen, "launch plan: version %u, this bootstrap reads version %u", b[4], PLAN_VERSION);
    return NULL;
  }
  r.at = b + 8;
  uint32_t total = u32(&r, "length");
  if (total != len) {
    snprintf(err, errlen, "launch plan: %zu bytes where the header says %u", len, total);
    return NULL;
  }
  struct plan *p = alloc(&r, 1, sizeof *p);
  if (p) {
    p->exec_shim_fd = -1;
    p->netns_fd = -1;
    decode_fields(&r, p);
  }
  if (!r.failed && r.at != r.end) fail(&r, "launch plan: %zu bytes left after the last field", (size_t)(r.end - r.at));
  if (r.failed) {
    plan_arena_free(arena);
    return NULL;
  }
  return p;
}
