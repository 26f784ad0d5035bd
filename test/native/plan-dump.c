/*
 * Decodes a launch plan's bytes (stdin) with native/src/plan_decode.c and prints every field of the
 * resulting struct plan, one `name=value` line each, in the format test/unit/plan-codec.test.ts prints
 * for the plan it encoded. Strings as hex (s:...) or null. A refused plan: the reason on stderr, exit 2.
 */
#include "read_plan.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s(const char *name, const char *v) {
  printf("%s=", name);
  if (!v) {
    puts("null");
    return;
  }
  fputs("s:", stdout);
  for (const unsigned char *c = (const unsigned char *)v; *c; c++) printf("%02x", *c);
  putchar('\n');
}
static void n(const char *name, long long v) { printf("%s=%lld\n", name, v); }
static void u(const char *name, uint64_t v) { printf("%s=%" PRIu64 "\n", name, v); }
static void strv(const char *name, char **v, int count) {
  char key[128];
  int len = 0;
  while (v[len]) len++;
  if (count >= 0 && count != len) printf("%s: count %d but %d strings\n", name, count, len);
  snprintf(key, sizeof key, "%s.length", name);
  n(key, len);
  for (int i = 0; i < len; i++) {
    snprintf(key, sizeof key, "%s[%d]", name, i);
    s(key, v[i]);
  }
}
static void hooks(const char *name, struct hook_step *h, int count) {
  char key[128];
  snprintf(key, sizeof key, "%s.length", name);
  n(key, count);
  for (int i = 0; i < count; i++) {
#define K(f) (snprintf(key, sizeof key, "%s[%d].%s", name, i, f), key)
    s(K("path"), h[i].path);
    strv(K("args"), h[i].args, -1);
    strv(K("env"), h[i].env, -1);
    n(K("timeout"), h[i].timeout);
    n(K("index"), h[i].field_index);
#undef K
  }
}

int main(void) {
  struct plan_arena arena = {0};
  struct plan *p = read_plan(&arena);
  char key[128];
#define K(fmt, ...) (snprintf(key, sizeof key, fmt, __VA_ARGS__), key)
  n("cloneFlags", p->clone_flags);
  n("newUserns", p->new_userns);
  n("join.length", p->njoin);
  for (int i = 0; i < p->njoin; i++) {
    n(K("join[%d].type", i), p->join_types[i]);
    s(K("join[%d].path", i), p->join_paths[i]);
  }
  s("timeOffsets", p->time_offsets);
  n("syncFd", p->sync_fd);
  s("rootfs", p->rootfs);
  n("rootPropagation", (long long)p->root_propagation);
  n("noPivot", p->no_pivot);
  n("readonlyRoot", p->readonly_root);
  n("pauseAfterMounts", p->pause_after_mounts);
  n("mounts.length", p->nmounts);
  for (int i = 0; i < p->nmounts; i++) {
    struct mount_step *m = &p->mounts[i];
    s(K("mounts[%d].source", i), m->source);
    s(K("mounts[%d].target", i), m->target);
    s(K("mounts[%d].fstype", i), m->fstype);
    n(K("mounts[%d].flags", i), (long long)m->flags);
    n(K("mounts[%d].propagation.length", i), m->npropagation);
    for (int j = 0; j < m->npropagation; j++) n(K("mounts[%d].propagation[%d]", i, j), (long long)m->propagation[j]);
    s(K("mounts[%d].data", i), m->data);
    n(K("mounts[%d].bind", i), m->bind);
    n(K("mounts[%d].file", i), m->file);
    u(K("mounts[%d].attrSet", i), m->attr_set);
    u(K("mounts[%d].attrClr", i), m->attr_clr);
    n(K("mounts[%d].index", i), m->field_index);
  }
  n("devices.length", p->ndevices);
  for (int i = 0; i < p->ndevices; i++) {
    struct device_step *d = &p->devices[i];
    s(K("devices[%d].path", i), d->path);
    n(K("devices[%d].mode", i), d->mode);
    n(K("devices[%d].major", i), d->major);
    n(K("devices[%d].minor", i), d->minor);
    n(K("devices[%d].uid", i), d->uid);
    n(K("devices[%d].gid", i), d->gid);
    n(K("devices[%d].bind", i), d->bind);
    n(K("devices[%d].index", i), d->field_index);
  }
  n("defaultLinks", p->default_links);
  strv("maskedPaths", p->masked, p->nmasked);
  strv("readonlyPaths", p->readonly, p->nreadonly);
  s("hostname", p->hostname);
  s("domainname", p->domainname);
  strv("sysctlPaths", p->sysctl_keys, p->nsysctl);
  strv("sysctlValues", p->sysctl_values, p->nsysctl);
  strv("args", p->args, -1);
  if (p->exec_argv != p->args - 1 || p->exec_argv[0]) puts("exec_argv: no empty slot before args");
  strv("env", p->env, -1);
  s("cwd", p->cwd);
  n("uid", p->uid);
  n("gid", p->gid);
  n("additionalGids.length", p->ngroups);
  for (int i = 0; i < p->ngroups; i++) n(K("additionalGids[%d]", i), p->groups[i]);
  n("setGroups", p->set_groups);
  n("umask", p->umask);
  n("rlimits.length", p->nrlimits);
  for (int i = 0; i < p->nrlimits; i++) {
    n(K("rlimits[%d].resource", i), p->rlimits[i].resource);
    u(K("rlimits[%d].soft", i), p->rlimits[i].soft);
    u(K("rlimits[%d].hard", i), p->rlimits[i].hard);
  }
  n("capabilities", p->has_caps);
  if (p->has_caps) {
    u("capabilities.bounding", p->cap_bounding);
    u("capabilities.effective", p->cap_effective);
    u("capabilities.inheritable", p->cap_inheritable);
    u("capabilities.permitted", p->cap_permitted);
    u("capabilities.ambient", p->cap_ambient);
  }
  n("noNewPrivileges", p->no_new_privs);
  n("oomScoreAdj", p->has_oom);
  if (p->has_oom) n("oomScoreAdj.value", p->oom_score_adj);
  n("personality", p->personality);
  if (!p->seccomp) {
    puts("seccomp=null");
  } else {
    fputs("seccomp=b:", stdout);
    for (size_t i = 0; i < p->seccomp_len; i++) printf("%02x", p->seccomp[i]);
    putchar('\n');
  }
  n("seccompFlags", p->seccomp_flags);
  n("terminal", p->terminal);
  n("consoleSocketFd", p->console_socket);
  n("consoleRows", p->console_rows);
  n("consoleCols", p->console_cols);
  s("execFifo", p->exec_fifo);
  n("preserveFds", p->preserve_fds);
  for (int i = 0; i < 3; i++) n(K("stdio[%d]", i), p->stdio[i]);
  hooks("createContainerHooks", p->create_hooks, p->ncreate_hooks);
  hooks("startContainerHooks", p->start_hooks, p->nstart_hooks);
  n("setsid", p->setsid);
  strv("cgroupTasks", p->cgroup_tasks, p->ncgroup_tasks);
  s("cgroupV2", p->cgroup_v2);
  n("waitPlaced", p->wait_placed);
  n("execShimFd", p->exec_shim_fd);
  plan_arena_free(&arena);
  return 0;
}
