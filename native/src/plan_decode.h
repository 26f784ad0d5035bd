/*
 * Decodes the launch plan's bytes (lib/runtime/plan-codec.ts: the layout and its version) into the
 * bootstrap's struct plan. Plain C, no N-API: linked into the addon's spawn and the native front-end.
 */
#ifndef BERTH_PLAN_DECODE_H
#define BERTH_PLAN_DECODE_H
#include "plan.h"

#define PLAN_MAGIC "BPLN"
#define PLAN_VERSION 2

/* Everything one decoded plan owns, freed at once by plan_arena_free (after the fork, in the parent). */
struct plan_arena {
  struct plan_chunk *chunks;
};

/*
 * Returns the plan (allocated in *arena, which the caller zero-initialises and later frees) or NULL with a
 * one-line reason in err ("launch plan: version 2, this bootstrap reads version 1", "plan.mounts[3].target:
 * ..."). Descriptors in the plan are numbers only: the caller owns them. exec_shim_fd is left at -1.
 */
struct plan *plan_decode(const void *bytes, size_t len, struct plan_arena *arena, char *err, size_t errlen);
void plan_arena_free(struct plan_arena *arena);
#endif
