// v1 <-> v2 value conversions, as the OCI runtime-spec's cgroup v2 notes and runc define them.

/** cpu.shares [2, 262144] -> cpu.weight [1, 10000]; 0 stays 0 (unset). */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** blkio.weight [10, 1000] -> io.weight [1, 10000]; 0 stays 0 (unset). */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * linux.resources.memory.swap is memory+swap (the v1 meaning); v2's memory.swap.max is swap alone.
 * Returns the memory.swap.max value: a number, 'max', or undefined for "leave unset".
 */
export function swapToV2(swap: number | undefined, limit: number | undefined): number | 'max' | undefined {
  if (swap === undefined || swap === 0) return undefined;
  if (swap === -1) return 'max';
  if (limit === undefined || limit === -1) return swap; // nothing to subtract from: runc does the same
  return swap - limit;
}

/** A bytes value for a v2 file: -1 means "max". */
export function v2Bytes(n: number): string {
  return n === -1 ? 'max' : String(n);
}

/** "2MB" / "1GB" / "64KB" -> size in kB, or undefined when malformed. */
export function hugePageSizeKb(pageSize: string): number | undefined {
  const m = /^(\d+)(KB|MB|GB)$/.exec(pageSize);
  if (!m) return undefined;
  return Number(m[1]) * { KB: 1, MB: 1024, GB: 1024 * 1024 }[m[2] as 'KB' | 'MB' | 'GB'];
}
