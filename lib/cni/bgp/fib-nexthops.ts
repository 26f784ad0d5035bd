// What FibSync installs for a best route, as one string per prefix: its gateway, or with ECMP the distinct
// gateways of its multipath set in ascending order joined by "," ("10.0.0.1,10.0.0.2"). One string keeps
// the single-path case as cheap as before (the attribute's own string, no array per prefix), and two
// sets compare with ===, whichever path is best and whatever order the kernel dumps them in.
import type { Route } from './route';

export const NEXT_HOP_SEPARATOR = ',';

/** the text for a set of gateways (any order, duplicates allowed) */
export function joinNextHops(gateways: readonly string[]): string {
  const distinct = [...new Set(gateways)].sort();
  return intern(distinct.join(NEXT_HOP_SEPARATOR));
}

export function splitNextHops(s: string): string[] {
  return s.split(NEXT_HOP_SEPARATOR);
}

export const isMultipath = (s: string): boolean => s.includes(NEXT_HOP_SEPARATOR);

/** What goes into the kernel for a best route: undefined for our own blocks and routes without a next hop. */
export function fibNextHops(best: Route): string | undefined {
  if (best.source.local || !best.attrs.nextHop) return undefined;
  if (!best.multipath) return best.attrs.nextHop;
  const gws: string[] = [];
  for (const p of best.multipath) if (p.attrs.nextHop) gws.push(p.attrs.nextHop);
  return joinNextHops(gws);
}

/** prefixes of one ECMP set share one string: a million of them cost a handful, not one each */
const texts = new Map<string, string>();
function intern(s: string): string {
  if (!isMultipath(s)) return s;
  const had = texts.get(s);
  if (had !== undefined) return had;
  if (texts.size > 4096) texts.clear(); // few distinct sets in practice; stay bounded
  texts.set(s, s);
  return s;
}
