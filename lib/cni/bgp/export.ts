// From Loc-RIB to one peer: who may receive a route (RFC 4271 §9.1.3, RFC 4456 §6), the export policy,
// the attribute rewriting of §5.1, and the Adj-RIB-Out that remembers what was sent so only changes go out.
import { AFI, MAX_MESSAGE_LEN, type Afi } from './codec/constants';
import { encodeAttributes, type CodecContext, type PathAttributes } from './codec/attributes';
import type { UpdateMessage } from './codec/update';
import { evaluatePolicy, type Policy } from './policy';
import { DEFAULT_LOCAL_PREF, type Route } from './route';

/** What export needs to know about the receiving peer and about us. */
export interface ExportTarget {
  /** source id of the peer (its address) */
  id: string;
  internal: boolean;
  rrClient: boolean;
  /** the peer's BGP identifier, to avoid reflecting a route to its originator */
  routerId: string;
  /** explicit export policy; undefined means the default (see exportRoute) */
  policy?: Policy;
  localAs: number;
  localRouterId: string;
  /** RFC 4456 §7: cluster id, our router id unless configured; set only when we reflect */
  clusterId?: string;
  /** next-hop-self addresses for this session */
  nextHop4?: string;
  nextHop6?: string;
  nextHop6LinkLocal?: string;
}

/** The attributes to announce `route` with to `to`, or undefined when it must not be sent. */
export function exportRoute(route: Route, to: ExportTarget): PathAttributes | undefined {
  const src = route.source;
  if (src.id === to.id) return undefined; // never back to where it came from
  if (!src.local && src.internal && to.internal) {
    // RFC 4271 §9.1.3: iBGP routes are not passed to iBGP peers, unless we reflect (RFC 4456 §6):
    // from a client to everyone, from a non-client to clients only
    if (to.clusterId === undefined) return undefined;
    if (!src.rrClient && !to.rrClient) return undefined;
    if (route.attrs.originatorId === to.routerId) return undefined;
  }
  let r: Route | undefined = route;
  if (to.policy) r = evaluatePolicy(to.policy, route);
  else if (!to.internal) r = undefined; // RFC 8212: no policy, no routes to an external peer
  else if (!src.local && !src.internal) r = undefined; // default: only our own blocks (and reflected routes)
  if (!r) return undefined;

  const a: PathAttributes = { ...r.attrs, mpReach: undefined, mpUnreach: undefined };
  const v6 = r.afi === AFI.IPV6;
  if (!to.internal) {
    // §5.1.2: prepend our AS; §5.1.3: we are the next hop; §5.1.4: MED from another AS stops here;
    // §5.1.5: LOCAL_PREF never crosses; RFC 4456 attributes are iBGP only
    const path = a.asPath ?? [];
    a.asPath = path[0]?.type === 2 && path[0].asns.length < 255
      ? [{ type: 2, asns: [to.localAs, ...path[0].asns] }, ...path.slice(1)]
      : [{ type: 2, asns: [to.localAs] }, ...path];
    a.nextHop = v6 ? to.nextHop6 : to.nextHop4;
    if (!src.local && r.attrs.med === route.attrs.med) a.med = undefined; // unless our export policy set it
    a.localPref = undefined;
    a.originatorId = undefined;
    a.clusterList = undefined;
  } else {
    a.asPath ??= [];
    a.localPref ??= DEFAULT_LOCAL_PREF;
    if (src.local) a.nextHop = v6 ? to.nextHop6 : to.nextHop4;
    if (!src.local && src.internal) {
      // RFC 4456 §8: record the originator once and prepend our cluster id
      a.originatorId ??= src.routerId;
      a.clusterList = [to.clusterId!, ...(a.clusterList ?? [])];
    }
  }
  if (!a.nextHop) return undefined; // no usable next hop for this family on this session
  a.origin ??= 2;
  for (const k of Object.keys(a) as Array<keyof PathAttributes>) if (a[k] === undefined) delete a[k];
  return a;
}

/** Stable text of attributes, to compare what would be sent with what was sent. */
export function attrKey(a: PathAttributes): string {
  return JSON.stringify(a);
}

/** What one peer has been sent (RFC 4271 §3.2 Adj-RIB-Out). */
export class AdjRibOut {
  private readonly sent = new Map<string, { afi: Afi; attrs: PathAttributes; key: string }>();

  /** Records the wanted state of a prefix; returns whether something must be sent. */
  set(prefix: string, afi: Afi, attrs: PathAttributes | undefined): 'announce' | 'withdraw' | 'none' {
    if (!attrs && this.sent.size === 0) return 'none'; // nothing sent to this peer (it is the routes' source)
    const had = this.sent.get(prefix);
    if (!attrs) {
      if (!had) return 'none';
      this.sent.delete(prefix);
      return 'withdraw';
    }
    const key = attrKey(attrs);
    if (had?.key === key) return 'none';
    this.sent.set(prefix, { afi, attrs, key });
    return 'announce';
  }

  /** Forgets what was sent, of one family or all. */
  clear(afi?: Afi): void {
    if (afi === undefined) { this.sent.clear(); return; }
    for (const [p, e] of this.sent) if (e.afi === afi) this.sent.delete(p);
  }
  prefixes(afi?: Afi): string[] {
    if (afi === undefined) return [...this.sent.keys()];
    const out: string[] = [];
    for (const [p, e] of this.sent) if (e.afi === afi) out.push(p);
    return out;
  }
  get size(): number { return this.sent.size; }
}

/**
 * Packs announcements (grouped by identical attributes) and withdrawals of one family into UPDATE messages
 * no larger than 4096 octets. IPv4 uses the classic fields, IPv6 MP_REACH/MP_UNREACH (RFC 4760).
 */
export function buildUpdates(
  afi: Afi, announce: ReadonlyMap<string, PathAttributes>, withdraw: readonly string[], ctx: CodecContext,
  /** RFC 2545 §3: our link-local address goes along only when we are the (global) next hop */
  self6?: { global: string; linkLocal: string },
): UpdateMessage[] {
  const out: UpdateMessage[] = [];
  const perPrefix = afi === AFI.IPV4 ? 5 : 17; // length octet + at most 4 or 16 address octets
  const room = (attrLen: number): number => Math.max(1, Math.floor((MAX_MESSAGE_LEN - 19 - 4 - attrLen - 64) / perPrefix));
  for (let i = 0, n = room(0); i < withdraw.length; i += n) {
    const chunk = withdraw.slice(i, i + n);
    out.push(afi === AFI.IPV4
      ? { type: 'update', withdrawn: chunk, attrs: {}, nlri: [] }
      : { type: 'update', withdrawn: [], attrs: { mpUnreach: { afi, safi: 1, withdrawn: chunk } }, nlri: [] });
  }
  const groups = new Map<string, { attrs: PathAttributes; prefixes: string[] }>();
  for (const [p, a] of announce) {
    const k = attrKey(a);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { attrs: a, prefixes: [] }));
    g.prefixes.push(p);
  }
  for (const { attrs, prefixes } of groups.values()) {
    const n = room(encodeAttributes(attrs, ctx).length);
    for (let i = 0; i < prefixes.length; i += n) {
      const chunk = prefixes.slice(i, i + n);
      if (afi === AFI.IPV4) out.push({ type: 'update', withdrawn: [], attrs, nlri: chunk });
      else {
        const { nextHop, ...rest } = attrs;
        const ll = self6 && nextHop === self6.global ? self6.linkLocal : undefined;
        out.push({ type: 'update', withdrawn: [], nlri: [], attrs: { ...rest, mpReach: { afi, safi: 1, nextHop: nextHop!, linkLocalNextHop: ll, nlri: chunk } } });
      }
    }
  }
  return out;
}
