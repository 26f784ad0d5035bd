// The decision process's tie-breaking (RFC 4271 §9.1.2.2, with RFC 4456 §9 for route reflection).
import { asPathLength, SEG } from './codec/attributes';
import { DEFAULT_LOCAL_PREF, type RoutePath } from './route';

const ipNum = (ip: string): bigint => {
  if (!ip) return 0n;
  if (ip.includes(':')) {
    // expand :: and compare as a 128-bit number
    const [h, t = ''] = ip.split('::');
    const hs = h ? h.split(':') : [];
    const ts = t ? t.split(':') : [];
    const all = ip.includes('::') ? [...hs, ...Array(8 - hs.length - ts.length).fill('0'), ...ts] : hs;
    return all.reduce((a: bigint, g: string) => (a << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
  }
  return ip.split('.').reduce((a, b) => (a << 8n) | BigInt(Number(b)), 0n);
};

/** The neighbouring AS a route came through: the first AS of the first AS_SEQUENCE (§9.1.2.2c). */
export function neighborAs(r: RoutePath): number | undefined {
  const first = r.attrs.asPath?.find((s) => s.type === SEG.AS_SEQUENCE || s.type === SEG.AS_SET);
  return first?.type === SEG.AS_SEQUENCE ? first.asns[0] : undefined;
}

/** Each step, in order, as a named comparison: negative when `a` is better. */
const STEPS: Array<[string, (a: RoutePath, b: RoutePath) => number]> = [
  // a node's own routes first (BIRD and GoBGP do the same: they win before any BGP attribute counts)
  ['local', (a, b) => Number(b.source.local) - Number(a.source.local)],
  // §9.1.1: degree of preference is LOCAL_PREF for BGP routes
  ['local-pref', (a, b) => (b.attrs.localPref ?? DEFAULT_LOCAL_PREF) - (a.attrs.localPref ?? DEFAULT_LOCAL_PREF)],
  ['as-path', (a, b) => asPathLength(a.attrs.asPath) - asPathLength(b.attrs.asPath)],
  ['origin', (a, b) => (a.attrs.origin ?? 2) - (b.attrs.origin ?? 2)],
  // §9.1.2.2c: MED only between routes from the same neighbouring AS; a missing MED is the lowest
  ['med', (a, b) => (neighborAs(a) === neighborAs(b) ? (a.attrs.med ?? 0) - (b.attrs.med ?? 0) : 0)],
  ['ebgp-over-ibgp', (a, b) => Number(a.source.internal) - Number(b.source.internal)],
  // §9.1.2.2e: interior cost to the next hop: berth has no IGP, all next hops cost the same
  // (the steps from here on only break ties: paths equal up to here are equal-cost, see multipathSet)
  // §9.1.2.2f + RFC 4456 §9: the ORIGINATOR_ID stands in for the router id of reflected routes
  ['router-id', (a, b) => Number(ipNum(a.attrs.originatorId ?? a.source.routerId) - ipNum(b.attrs.originatorId ?? b.source.routerId))],
  ['cluster-list', (a, b) => (a.attrs.clusterList?.length ?? 0) - (b.attrs.clusterList?.length ?? 0)],
  ['peer-address', (a, b) => { const d = ipNum(a.source.address) - ipNum(b.source.address); return d < 0n ? -1 : d > 0n ? 1 : 0; }],
];

/** the steps whose tie makes two paths equal-cost: all but the final tie-breaks (router id, cluster list, peer address) */
const EQUAL_COST_STEPS = STEPS.slice(0, STEPS.findIndex(([name]) => name === 'router-id'));

export function compareRoutes(a: RoutePath, b: RoutePath): number {
  for (const [, step] of STEPS) {
    const d = step(a, b);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** Which step decided between two routes (for `berth bgp routes` and tests). */
export function decidingStep(a: RoutePath, b: RoutePath): string | undefined {
  for (const [name, step] of STEPS) if (step(a, b) !== 0) return name;
  return undefined;
}

export function selectBest<R extends RoutePath>(candidates: Iterable<R>): R | undefined {
  let best: R | undefined;
  for (const r of candidates) if (!best || compareRoutes(r, best) < 0) best = r;
  return best;
}

/**
 * The multipath set (ECMP) of `best` among `candidates`: `best` first, then the paths the decision process
 * finds as good as it before the final tie-breaks (RFC 4271 §9.1.2.2 a-e: LOCAL_PREF, AS_PATH length,
 * ORIGIN, MED where comparable, eBGP/iBGP), in decision order, at most `max`. BIRD's `merge paths` and
 * FRR's `maximum-paths` with `as-path multipath-relax` choose the same set. A node's own route is never
 * multipath: it is not installed at all.
 */
export function multipathSet<R extends RoutePath>(best: R, candidates: readonly R[], max: number): R[] {
  const out = [best];
  if (max < 2 || best.source.local) return out;
  for (const r of candidates) if (r !== best && EQUAL_COST_STEPS.every(([, step]) => step(r, best) === 0)) out.push(r);
  if (out.length > 2) out.sort((a, b) => (a === best ? -1 : b === best ? 1 : compareRoutes(a, b)));
  if (out.length > max) out.length = max;
  return out;
}
