// `berth bgp peers|routes`: the agent's BGP state in the shape of `birdc show protocols` and
// `birdc show route`, read from the status files the agent's BGP backend writes under its run dir
// (no control socket: the CLI stays a cheap, read-only process). --json prints the raw records.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bool, str, type Command, type FlagSpec, type Group, type Parsed } from '../../util/command-line';
import { BerthError } from '../../util/errors';
import type { PeerStatus, RouteStatus } from '../bgp/status';
import type { BgpStatusFile } from './backends/bgp/status';
import { DEFAULT_RUN_DIR } from './settings';

function readFile<T>(dir: string, file: string, what: string): T {
  const f = path.join(dir, file);
  try {
    return JSON.parse(fs.readFileSync(f, 'utf8')) as T;
  } catch (e) {
    throw new BerthError(`no ${what} at ${f} (is berth agent --backend bgp running?): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { field: '--run-dir' });
  }
}

const hms = (iso: string): string => new Date(iso).toISOString().slice(11, 19);

function table(rows: string[][]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join('  ')).join('\n') + '\n';
}

/** One line per peer, like `birdc show protocols`: up when Established, else start. */
export function formatPeers(peers: PeerStatus[]): string {
  const rows = [['Name', 'Proto', 'State', 'Since', 'Info']];
  for (const p of peers) {
    const info = [p.state, `AS${p.asn}`, p.description ?? '', p.state === 'Established' ? `${p.accepted}/${p.received} imported, ${p.advertised} exported` : p.lastError ?? '', p.gracefulRestart ? 'graceful restart' : '']
      .filter(Boolean).join('  ');
    rows.push([p.address, 'BGP', p.state === 'Established' ? 'up' : 'start', hms(p.since), info]);
  }
  return table(rows);
}

/** Like `birdc show route`: prefix, then each path; `*` marks the best one. */
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
  }
  return out;
}

const RUN_DIR: FlagSpec[string] = { value: true, arg: 'DIR', default: DEFAULT_RUN_DIR, help: 'the agent\'s --run-dir' };
const JSON_FLAG: FlagSpec[string] = { value: false, help: 'print the raw records as JSON' };

function runDir(p: Parsed, where: string): string {
  if (p.positional.length) throw new BerthError(`unexpected argument "${p.positional[0]}"`, { field: where });
  return path.resolve(str(p, 'run-dir')!);
}

const peers: Command<unknown> = {
  summary: 'one line per peer, like `birdc show protocols`',
  flags: { 'run-dir': RUN_DIR, json: JSON_FLAG },
  interspersed: true,
  async run(p) {
    const s = readFile<BgpStatusFile>(runDir(p, 'berth bgp peers'), 'bgp.json', 'BGP status');
    process.stdout.write(bool(p, 'json') ? JSON.stringify(s.peers, null, 2) + '\n' : formatPeers(s.peers));
    return 0;
  },
};

const routes: Command<unknown> = {
  summary: 'the routes, like `birdc show route` (best paths only, unless --all)',
  flags: { 'run-dir': RUN_DIR, all: { value: false, help: 'every path, not only the best one per prefix' }, json: JSON_FLAG },
  interspersed: true,
  async run(p) {
    let all = readFile<RouteStatus[]>(runDir(p, 'berth bgp routes'), 'bgp-routes.json', 'BGP routes');
    if (!bool(p, 'all')) all = all.filter((r) => r.best);
    process.stdout.write(bool(p, 'json') ? JSON.stringify(all, null, 2) + '\n' : formatRoutes(all));
    return 0;
  },
};

/** `berth bgp peers|routes`, as the berth command table runs it. */
export const bgpGroup: Group<unknown> = {
  summary: 'the agent\'s BGP peers and routes',
  flags: {},
  commands: () => ({ peers, routes }),
  enter: (_p, ctx) => ctx,
};
