/* Root filesystem steps of the bootstrap (called by the driver, bootstrap.c). */
#ifndef BERTH_BOOTSTRAP_ROOTFS_H
#define BERTH_BOOTSTRAP_ROOTFS_H
#include "plan.h"
void setup_rootfs_before_hooks(struct plan *p);
void setup_rootfs_after_hooks(struct plan *p);
#endif
