// An undo stack: each step that changes the world records how to take it back; on failure the steps are
// undone newest first. Shared by the CNI plugins' ADD and the runtime's create.

/** Undo steps, in the order they were recorded. */
export type Undo = (() => Promise<unknown>)[];

/** Undoes every step, newest first, each tried even when an earlier one failed; true when all succeeded. */
export async function rollback(undo: Undo): Promise<boolean> {
  let clean = true;
  for (const u of undo.splice(0).reverse()) {
    try {
      await u();
    } catch {
      clean = false;
    }
  }
  return clean;
}

/** Runs `work`; when it fails, rolls back what it recorded in `undo` and rethrows its error. */
export async function withRollback<T>(work: (undo: Undo) => Promise<T>): Promise<T> {
  const undo: Undo = [];
  try {
    return await work(undo);
  } catch (e) {
    await rollback(undo);
    throw e;
  }
}
