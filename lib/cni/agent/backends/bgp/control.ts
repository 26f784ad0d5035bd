// What the BGP backend answers on the agent's control socket: `berth bgp peers|routes` with filters, soft
// reset in/out, peer disable/enable. Everything is computed on request, never on a timer.
import type { BgpSpeaker, RouteStatus } from '../../../bgp';
import type { ControlArgs, ControlHandler } from '../../control/server';

const text = (a: ControlArgs, k: string): string | undefined => (a[k] === undefined ? undefined : String(a[k]));

/** IPv4 or IPv6 prefix as a bit string, for "inside this prefix" tests. */
function bits(prefix: string): { v6: boolean; bits: string } {
  const [ip, len] = prefix.split('/');
  const v6 = ip.includes(':');
  let b = '';
  if (!v6) for (const o of ip.split('.')) b += Number(o).toString(2).padStart(8, '0');
  else {
    const [h, t] = ip.split('::');
    const head = h ? h.split(':') : [];
    const tail = t !== undefined && t ? t.split(':') : [];
    const groups = t === undefined ? head : [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail];
    for (const g of groups) b += parseInt(g || '0', 16).toString(2).padStart(16, '0');
  }
  return { v6, bits: b.slice(0, len === undefined ? b.length : Number(len)) };
}

/** Routes at or inside `prefix`. */
export function routesInside(routes: RouteStatus[], prefix: string): RouteStatus[] {
  if (!/^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(prefix)) throw new Error(`invalid prefix "${prefix}"`);
  const want = bits(prefix);
  return routes.filter((r) => { const b = bits(r.prefix); return b.v6 === want.v6 && b.bits.length >= want.bits.length && b.bits.startsWith(want.bits); });
}

function peerArg(a: ControlArgs): string {
  const p = text(a, 'peer');
  if (!p) throw new Error('--peer is required');
  return p;
}

export function bgpControlHandlers(speaker: BgpSpeaker): Record<string, ControlHandler> {
  return {
    'bgp.peers': (a) => {
      const peer = text(a, 'peer');
      return speaker.peers().filter((p) => !peer || p.address === peer);
    },
    'bgp.selection': () => speaker.selectionDeferral(),
    'bgp.routes': (a) => {
      let rs = speaker.routes(a.all === true);
      const family = text(a, 'family');
      if (family !== undefined && family !== 'ipv4' && family !== 'ipv6') throw new Error(`invalid --family "${family}" (want ipv4 or ipv6)`);
      if (family) rs = rs.filter((r) => r.prefix.includes(':') === (family === 'ipv6'));
      const peer = text(a, 'peer');
      if (peer) rs = rs.filter((r) => r.from === peer);
      const prefix = text(a, 'prefix');
      if (prefix) rs = routesInside(rs, prefix);
      const limit = a.limit === undefined ? undefined : Number(a.limit);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw new Error(`invalid --limit "${String(a.limit)}"`);
      return limit === undefined ? rs : rs.slice(0, limit);
    },
    'bgp.reset': (a) => {
      const dir = text(a, 'direction');
      if (dir !== 'in' && dir !== 'out') throw new Error(`invalid direction "${String(dir)}" (want in or out)`);
      if (!speaker.softReset(peerArg(a), dir)) throw new Error(`peer ${peerArg(a)} is not established`);
      return { peer: peerArg(a), reset: dir };
    },
    'bgp.disable': (a) => {
      if (!speaker.setPeerEnabled(peerArg(a), false)) throw new Error(`no peer ${peerArg(a)}`);
      return { peer: peerArg(a), enabled: false };
    },
    'bgp.enable': (a) => {
      if (!speaker.setPeerEnabled(peerArg(a), true)) throw new Error(`no peer ${peerArg(a)}`);
      return { peer: peerArg(a), enabled: true };
    },
  };
}
