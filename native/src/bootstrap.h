/*
 * The container bootstrap: a plain-data launch plan (built in TypeScript, see lib/runtime/plan.ts)
 * executed step by step in C by the cloned child, with no JavaScript after clone.
 * Layering, one way: the driver (bootstrap.c) calls the rootfs steps (bootstrap_rootfs.c) and the process
 * steps (bootstrap_process.c); those call only the helpers (sync.c, fdutil.c).
 */
#ifndef BERTH_BOOTSTRAP_H
#define BERTH_BOOTSTRAP_H
#include "plan.h"

/*
 * The entry points for a launcher: the addon's spawn.c, and any plain C program linked with the
 * berth_bootstrap static library (native/binding.gyp; test/native/plan-launch.c is the smallest one).
 * The caller decodes the plan (plan_decode.h), sets p->sync_fd (its end of a socketpair) and
 * p->exec_shim_fd (exec_shim_fd.h), blocks every signal around bootstrap_fork, frees the arena after it,
 * and answers the sync protocol (sync.h) on the other end of sync_fd, or hands that end to whoever does
 * (the berth server, over SCM_RIGHTS).
 */
/* Nothing to join, no user or time namespace: the container process can be cloned straight away. */
bool bootstrap_is_direct(const struct plan *p);
/*
 * Forks the bootstrap: the container process itself when direct (*direct = true; it sends no MSG_PID), else
 * stage 1 (*direct = false; it reports the container's pid as MSG_PID and exits: reap it). -1 with errno.
 */
pid_t bootstrap_fork(struct plan *p, bool *direct);
/* In a fresh child: every signal handler back to default, nothing blocked. */
void bootstrap_reset_signals(void);

/* Stage 1: joins, creates the user namespace, unshares, clones the container process; exits. */
int stage1_main(struct plan *p);
/* The container process cloned straight from the caller (no namespace to join, no user namespace). */
void direct_main(struct plan *p) __attribute__((noreturn));
#endif
