// Picks addresses from a range set: a requested one, or the next free one after the last handed out
// (round robin, so a released address is not reused at once). Runs under the store's lock.
import { CniError, ErrInvalidNetworkConfig, ErrTryAgainLater } from '../errors';
import type { IPConfig } from '../types';
import type { Range, RangeSet } from './ipam-config';
import { Addr, formatIP, parseIP } from '../../util/ip-address';

export interface Allocation {
  ip: string;
  config: IPConfig;
}

function rangeIndexOf(set: RangeSet, n: bigint, family: number): number {
  return family === set.family ? set.ranges.findIndex((r) => r.start.n <= n && n <= r.end.n) : -1;
}

export function rangeFor(set: RangeSet, a: Addr): Range | undefined {
  return set.ranges[rangeIndexOf(set, a.n, a.family)];
}

function isExcluded(set: RangeSet, n: bigint): boolean {
  return set.excluded.some((e) => e.first <= n && n <= e.last);
}

function toConfig(r: Range, n: bigint): Allocation {
  const ip = formatIP({ family: r.start.family, n });
  const config: IPConfig = { address: `${ip}/${r.subnet.len}` };
  if (r.gateway) config.gateway = formatIP(r.gateway);
  return { ip, config };
}

/** The requested address, if it is usable and free. `field` names where the request came from. */
export function allocateRequested(set: RangeSet, a: Addr, field: string, taken: Set<string>): Allocation {
  const r = rangeFor(set, a);
  if (!r) throw new CniError(ErrInvalidNetworkConfig, `${field}: ${formatIP(a)} is not in range set ${set.field}`);
  if (isExcluded(set, a.n)) {
    throw new CniError(ErrInvalidNetworkConfig, `${field}: ${formatIP(a)} is reserved (network, broadcast, gateway or excluded)`);
  }
  const out = toConfig(r, a.n);
  if (taken.has(out.ip)) {
    throw new CniError(ErrTryAgainLater, `${field}: requested address ${out.ip} is already allocated in range set ${set.field}`);
  }
  return out;
}

/** The next free address after `last` (the last one reserved from this set), wrapping around once. */
export function allocateNext(set: RangeSet, last: string | undefined, taken: Set<string>): Allocation {
  const lastAddr = last ? parseIP(last) : undefined;
  let ri = lastAddr ? rangeIndexOf(set, lastAddr.n, lastAddr.family) : -1;
  let from: bigint;
  if (ri < 0) {
    ri = 0;
    from = set.ranges[0].start.n;
  } else {
    from = lastAddr!.n + 1n;
  }
  const firstFrom = from;
  // walk each range once, starting mid-range at `from`, and finally the part of the first range before it
  for (let step = 0; step <= set.ranges.length; step++) {
    const r = set.ranges[ri];
    const stop = step === set.ranges.length ? firstFrom - 1n : r.end.n;
    for (let n = from; n <= stop; n++) {
      if (isExcluded(set, n)) continue;
      const cand = toConfig(r, n);
      if (!taken.has(cand.ip)) return cand;
    }
    ri = (ri + 1) % set.ranges.length;
    from = set.ranges[ri].start.n;
  }
  const span = set.ranges.map((r) => `${formatIP(r.start)}-${formatIP(r.end)}`).join(', ');
  throw new CniError(ErrTryAgainLater, `no IP addresses available in range set ${set.field} (${span})`);
}
