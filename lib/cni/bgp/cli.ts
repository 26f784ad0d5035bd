// `berth bgp peers|routes`: the agent's BGP state in the shape of `birdc show protocols` and
// `birdc show route`, read from the status files the agent's BGP backend writes under its run dir
// (no control socket: the CLI stays a cheap, read-only process). --json prints the raw records.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Globals } from '../../runtime/cli/context';
import { bool, parseFlags, str } from '../../runtime/cli/args';
import { BerthError } from '../../util/errors';
import type { BgpStatusFile } from '../agent/bgp-status';
import type { PeerStatus, RouteStatus } from './status';

const USAGE = `usage: berth bgp peers [--run-dir DIR] [--json]
       berth bgp routes [--run-dir DIR] [--all] [--json]
`;
const DEFAULT_RUN_DIR = '/run/berth/agent';

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

export async function bgpCommand(argv: string[], _g: Globals): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    process.stdout.write(USAGE);
    return sub === undefined ? 1 : 0;
  }
  if (sub !== 'peers' && sub !== 'routes') throw new BerthError(`unknown bgp command "${sub}" (want peers or routes)`, { field: 'berth bgp' });
  const p = parseFlags(rest, { 'run-dir': { value: true }, json: { value: false }, all: { value: false } }, `berth bgp ${sub}`, false);
  if (p.positional.length) throw new BerthError(`unexpected argument "${p.positional[0]}"`, { field: `berth bgp ${sub}` });
  const dir = path.resolve(str(p, 'run-dir') ?? DEFAULT_RUN_DIR);
  if (sub === 'peers') {
    const s = readFile<BgpStatusFile>(dir, 'bgp.json', 'BGP status');
    process.stdout.write(bool(p, 'json') ? JSON.stringify(s.peers, null, 2) + '\n' : formatPeers(s.peers));
    return 0;
  }
  let routes = readFile<RouteStatus[]>(dir, 'bgp-routes.json', 'BGP routes');
  if (!bool(p, 'all')) routes = routes.filter((r) => r.best);
  process.stdout.write(bool(p, 'json') ? JSON.stringify(routes, null, 2) + '\n' : formatRoutes(routes));
  return 0;
}
