// `berth bgp peers|routes|reset|disable|enable`: the agent's BGP state in the shape of `birdc show protocols`
// and `birdc show route`, asked from the running agent over its root-only control socket (as birdc asks
// bird), with filters. --json prints the raw records.
import * as path from 'node:path';
import { bool, str, type Command, type FlagSpec, type Group, type Parsed } from '../../util/command-line';
import { BerthError } from '../../util/errors';
import type { PeerStatus, RouteStatus } from '../bgp/status';
import type { FamilyDeferral } from '../bgp/selection-deferral';
import { askAgent } from './control/client';
import { DEFAULT_RUN_DIR } from './settings';

const hms = (iso: string): string => new Date(iso).toISOString().slice(11, 19);

function table(rows: string[][]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join('  ')).join('\n') + '\n';
}

/** One line per peer, like `birdc show protocols`: up when Established, else start. */
export function formatPeers(peers: PeerStatus[]): string {
  const rows = [['Name', 'Proto', 'State', 'Since', 'Info']];
  for (const p of peers) {
    const info = [p.state, `AS${p.asn}`, p.description ?? '', p.state === 'Established' ? `${p.accepted}/${p.received} imported, ${p.advertised} exported` : p.lastError ?? '', p.gracefulRestart ? 'graceful restart' : '', p.awaitingEndOfRib ? `awaiting End-of-RIB (${p.awaitingEndOfRib.join(', ')})` : '']
      .filter(Boolean).join('  ');
    rows.push([p.address, 'BGP', p.state === 'Established' ? 'up' : 'start', hms(p.since), info]);
  }
  return table(rows);
}

/** Like birdc's "Graceful restart recovery in progress": what our route selection still waits for after a restart. */
export function formatSelection(deferred: FamilyDeferral[]): string {
  return deferred.map((f) => `Route selection deferred (RFC 4724) for ${f.family}: End-of-RIB awaited from ${f.waitingFor.join(', ') || 'nobody'}, at most ${f.secondsLeft} s more\n`).join('');
}

/** Like `birdc show route`: prefix, then each path; `*` marks the best one, and its `via` lines list an ECMP set. */
export function formatRoutes(routes: RouteStatus[]): string {
  let out = '';
  let last = '';
  for (const r of routes) {
    const head = r.prefix === last ? ''.padEnd(20) : r.prefix.padEnd(20);
    last = r.prefix;
    const pref = r.localPref !== undefined ? ` (${r.localPref})` : '';
    const flags = `${r.best ? ' *' : ''}${r.stale ? ' stale' : ''}`;
    out += `${head} unicast [${r.from}]${flags}${pref} [${r.asPath ? `AS${r.asPath.split(' ').pop()}` : ''}${r.origin === 'IGP' ? 'i' : r.origin === 'EGP' ? 'e' : '?'}]\n`;
    out += `\tvia ${r.nextHop || '(self)'}${r.communities.length ? `  communities ${r.communities.join(' ')}` : ''}\n`;
    for (const via of r.multipath?.slice(1) ?? []) out += `\tvia ${via}  (multipath)\n`;
  }
  return out;
}

const RUN_DIR: FlagSpec[string] = { value: true, arg: 'DIR', default: DEFAULT_RUN_DIR, help: 'the agent\'s --run-dir (its control socket is agent.sock there)' };
const JSON_FLAG: FlagSpec[string] = { value: false, help: 'print the raw records as JSON' };
const PEER: FlagSpec[string] = { value: true, arg: 'IP', help: 'only this peer' };

function runDir(p: Parsed, where: string): string {
  if (p.positional.length) throw new BerthError(`unexpected argument "${p.positional[0]}"`, { field: where });
  return path.resolve(str(p, 'run-dir')!);
}

const peers: Command<unknown> = {
  summary: 'one line per peer, like `birdc show protocols`',
  flags: { 'run-dir': RUN_DIR, peer: PEER, json: JSON_FLAG },
  interspersed: true,
  async run(p) {
    const dir = runDir(p, 'berth bgp peers');
    const list = (await askAgent(dir, 'bgp.peers', { peer: str(p, 'peer') })) as PeerStatus[];
    if (bool(p, 'json')) { process.stdout.write(JSON.stringify(list, null, 2) + '\n'); return 0; }
    const deferred = (await askAgent(dir, 'bgp.selection', {})) as FamilyDeferral[];
    process.stdout.write(formatSelection(deferred) + formatPeers(list));
    return 0;
  },
};

const routes: Command<unknown> = {
  summary: 'the routes, like `birdc show route` (best paths only, unless --all)',
  flags: {
    'run-dir': RUN_DIR,
    all: { value: false, help: 'every path, not only the best one per prefix' },
    prefix: { value: true, arg: 'CIDR', help: 'only routes at or inside this prefix' },
    peer: { value: true, arg: 'IP', help: 'only routes learnt from this peer ("local" for our own)' },
    family: { value: true, arg: 'ipv4|ipv6', help: 'only this address family' },
    limit: { value: true, arg: 'N', help: 'at most N routes' },
    json: JSON_FLAG,
  },
  interspersed: true,
  async run(p) {
    const limit = str(p, 'limit');
    if (limit !== undefined && !/^\d+$/.test(limit)) throw new BerthError(`invalid value "${limit}" (want a number)`, { field: '--limit' });
    const list = (await askAgent(runDir(p, 'berth bgp routes'), 'bgp.routes', {
      all: bool(p, 'all'), prefix: str(p, 'prefix'), peer: str(p, 'peer'), family: str(p, 'family'), limit: limit === undefined ? undefined : Number(limit),
    })) as RouteStatus[];
    process.stdout.write(bool(p, 'json') ? JSON.stringify(list, null, 2) + '\n' : formatRoutes(list));
    return 0;
  },
};

function peerCommand(name: string, summary: string, cmd: string, extra: Record<string, string> = {}): Command<unknown> {
  return {
    summary,
    flags: { 'run-dir': RUN_DIR, peer: { ...PEER, help: 'the peer (required)' } },
    interspersed: true,
    async run(p) {
      const peer = str(p, 'peer');
      if (!peer) throw new BerthError('required', { field: '--peer' });
      process.stdout.write(JSON.stringify(await askAgent(runDir(p, `berth bgp ${name}`), cmd, { peer, ...extra })) + '\n');
      return 0;
    },
  };
}

/** `berth bgp ...`, as the berth command table runs it. */
export const bgpGroup: Group<unknown> = {
  summary: 'the agent\'s BGP peers and routes, soft reset, peer disable/enable',
  flags: {},
  commands: () => ({
    peers,
    routes,
    'reset-in': peerCommand('reset-in', 'soft reset in: ask the peer to send its routes again (route refresh)', 'bgp.reset', { direction: 'in' }),
    'reset-out': peerCommand('reset-out', 'soft reset out: send our routes to the peer again', 'bgp.reset', { direction: 'out' }),
    disable: peerCommand('disable', 'take the session down administratively (Cease); it stays down until enabled', 'bgp.disable'),
    enable: peerCommand('enable', 'start a disabled session again', 'bgp.enable'),
  }),
  enter: (_p, ctx) => ctx,
};
