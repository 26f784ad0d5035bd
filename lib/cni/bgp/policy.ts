// A small routing policy model, in the spirit of BIRD filters and GoBGP policy statements:
// an ordered list of rules; the first rule whose match holds and that has an action decides;
// rules without an action only modify attributes and fall through.
import { parsePrefix } from './codec/prefix';
import type { Route } from './route';

export interface PrefixMatch {
  prefix: string;
  /** accept more-specific prefixes whose length is within [ge, le] (default: exactly the prefix length) */
  ge?: number;
  le?: number;
}

export interface PolicyMatch {
  /** the route's prefix matches one of these (a prefix list) */
  prefixes?: PrefixMatch[];
  /** regular expression over the AS path written as space-separated numbers, e.g. "^65001\\b" or "\\b65010$" */
  asPath?: string;
  /** the route carries one of these communities ("65000:100") */
  communities?: string[];
}

export interface PolicySet {
  localPref?: number;
  med?: number;
  addCommunities?: string[];
  removeCommunities?: string[];
}

export interface PolicyRule {
  match?: PolicyMatch;
  set?: PolicySet;
  action?: 'accept' | 'reject';
}

export interface Policy {
  rules: PolicyRule[];
  /** what happens when no rule decides */
  default: 'accept' | 'reject';
}

export const ACCEPT_ALL: Policy = { rules: [], default: 'accept' };
export const REJECT_ALL: Policy = { rules: [], default: 'reject' };

export function parseCommunity(s: string): number {
  const m = /^(\d+):(\d+)$/.exec(s);
  if (!m || Number(m[1]) > 0xffff || Number(m[2]) > 0xffff) throw new TypeError(`bad community ${s} (want ASN:VALUE, each < 65536)`);
  return ((Number(m[1]) << 16) | Number(m[2])) >>> 0;
}
export function formatCommunity(c: number): string {
  return `${c >>> 16}:${c & 0xffff}`;
}

export function prefixMatches(prefix: string, m: PrefixMatch): boolean {
  const p = parsePrefix(prefix);
  const q = parsePrefix(m.prefix);
  if (p.afi !== q.afi) return false;
  const ge = m.ge ?? q.len;
  const le = m.le ?? (m.ge !== undefined ? (p.afi === 1 ? 32 : 128) : q.len);
  if (p.len < q.len || p.len < ge || p.len > le) return false;
  // compare the first q.len bits
  const whole = q.len >> 3;
  if (!p.bytes.subarray(0, whole).equals(q.bytes.subarray(0, whole))) return false;
  const rest = q.len & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (p.bytes[whole] & mask) === (q.bytes[whole] & mask);
}

export function asPathString(r: Route): string {
  return (r.attrs.asPath ?? []).map((s) => (s.type === 1 || s.type === 4 ? `{${s.asns.join(',')}}` : s.asns.join(' '))).join(' ');
}

function matches(r: Route, m: PolicyMatch | undefined): boolean {
  if (!m) return true;
  if (m.prefixes && !m.prefixes.some((p) => prefixMatches(r.prefix, p))) return false;
  if (m.asPath !== undefined && !new RegExp(m.asPath).test(asPathString(r))) return false;
  if (m.communities) {
    const have = new Set(r.attrs.communities ?? []);
    if (!m.communities.some((c) => have.has(parseCommunity(c)))) return false;
  }
  return true;
}

function apply(r: Route, s: PolicySet): Route {
  const attrs = { ...r.attrs };
  if (s.localPref !== undefined) attrs.localPref = s.localPref;
  if (s.med !== undefined) attrs.med = s.med;
  if (s.addCommunities || s.removeCommunities) {
    const remove = new Set((s.removeCommunities ?? []).map(parseCommunity));
    const list = (attrs.communities ?? []).filter((c) => !remove.has(c));
    for (const c of (s.addCommunities ?? []).map(parseCommunity)) if (!list.includes(c)) list.push(c);
    attrs.communities = list.length ? list : undefined;
  }
  return { ...r, attrs };
}

/** Returns the (possibly modified) route when the policy accepts it, undefined when it rejects it. */
export function evaluatePolicy(policy: Policy, route: Route): Route | undefined {
  let r = route;
  for (const rule of policy.rules) {
    if (!matches(r, rule.match)) continue;
    if (rule.set) r = apply(r, rule.set);
    if (rule.action === 'accept') return r;
    if (rule.action === 'reject') return undefined;
  }
  return policy.default === 'accept' ? r : undefined;
}

/** Checks a policy from configuration; throws TypeError naming the bad part. */
export function validatePolicy(p: Policy): void {
  for (const rule of p.rules) {
    for (const m of rule.match?.prefixes ?? []) parsePrefix(m.prefix);
    if (rule.match?.asPath !== undefined) new RegExp(rule.match.asPath);
    for (const c of [...(rule.match?.communities ?? []), ...(rule.set?.addCommunities ?? []), ...(rule.set?.removeCommunities ?? [])]) parseCommunity(c);
  }
}
