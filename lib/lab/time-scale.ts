// How much slower than this machine the lab runs: BERTH_LAB_TIME_SCALE (a number, default 1). The QEMU
// guest of test/vm/run.sh is emulated (TCG), where a Node process takes seconds to start; its waits for
// agents (ready, converged, leaving) stretch by this factor instead of failing on a slow machine.
export function timeScale(): number {
  const s = Number(process.env.BERTH_LAB_TIME_SCALE);
  return Number.isFinite(s) && s > 1 ? s : 1;
}

/** `ms` stretched by the time scale. */
export function scaled(ms: number): number {
  return Math.round(ms * timeScale());
}
