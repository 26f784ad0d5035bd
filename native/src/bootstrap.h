/*
 * The container bootstrap: a plain-data launch plan (built in TypeScript, see lib/runtime/plan.ts)
 * executed step by step in C by the cloned child, with no JavaScript after clone.
 * Layering, one way: the driver (bootstrap.c) calls the rootfs steps (bootstrap_rootfs.c) and the process
 * steps (bootstrap_process.c); those call only the helpers (sync.c, fdutil.c).
 */
#ifndef BERTH_BOOTSTRAP_H
#define BERTH_BOOTSTRAP_H
#include "plan.h"

/* Stage 1: joins, creates the user namespace, unshares, clones the container process; exits. */
int stage1_main(struct plan *p);
/* The container process cloned straight from the caller (no namespace to join, no user namespace). */
void direct_main(struct plan *p) __attribute__((noreturn));
#endif
