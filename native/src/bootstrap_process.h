/* Process steps of the bootstrap (called by the driver, bootstrap.c). */
#ifndef BERTH_BOOTSTRAP_PROCESS_H
#define BERTH_BOOTSTRAP_PROCESS_H
#include "plan.h"
void run_hooks(struct plan *p, struct hook_step *hooks, int n, const char *state, const char *field);
void finish_and_exec(struct plan *p, const char *hook_state) __attribute__((noreturn));
#endif
