// Test helper: a lab per test, named after the test process so parallel runs never meet, always torn down;
// plus snapshots of a node's VXLAN forwarding state, a poller, and a busybox bundle that pings.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Lab, LabOptions } from '../../lib/lab/lab';
import { runIn } from '../../lib/lab/sh';
import { scaled } from '../../lib/lab/time-scale';
import type { Lease } from '../../lib/cni/agent/store/types';

let counter = 0;

export async function testLab(t: { teardown(fn: () => unknown): void }, o: Omit<LabOptions, 'name'> & { tag?: string }): Promise<Lab> {
  const name = `${o.tag ?? 't'}${process.pid % 100000}${counter++}`.slice(0, 12);
  t.teardown(() => Lab.down(name));
  // a slow machine (the emulated test VM) renews leases late: stretch their TTL with the other waits
  return Lab.up({ ...o, name, ...(o.ttlS !== undefined ? { ttlS: scaled(o.ttlS * 1000) / 1000 } : {}) });
}

export interface VxlanSnapshot {
  link: string;
  routes: string[];
  neighs: string[];
  fdbs: string[];
}

/** The VXLAN device (index, MAC, attributes) and the entries on it, as `ip`/`bridge` print them. */
export function vxlanState(lab: Lab, node: string, dev = 'berth.1'): VxlanSnapshot {
  const ns = lab.node(node).ns;
  const out = (cmd: string, args: string[]): string[] => runIn(ns, cmd, args).stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  return {
    link: out('ip', ['-d', '-o', 'link', 'show', dev]).join(' ').replace(/\s+/g, ' '),
    routes: out('ip', ['route', 'show', 'dev', dev]).sort(),
    neighs: out('ip', ['neigh', 'show', 'dev', dev]).sort(),
    fdbs: out('bridge', ['fdb', 'show', 'dev', dev]).sort(),
  };
}

/** Polls cond every 50 ms for up to ms (stretched on a slow machine: lib/lab/time-scale); resolves to the time it took, or -1. */
export async function within(ms: number, cond: () => boolean | Promise<boolean>): Promise<number> {
  ms = scaled(ms);
  const start = Date.now();
  for (;;) {
    if (await cond()) return Date.now() - start;
    if (Date.now() - start > ms) return -1;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The agent's JSON log lines. */
export function agentLog(lab: Lab, node: string): Record<string, unknown>[] {
  const file = lab.node(node).agentLog;
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** a node's lease as the embedded store holds it (one JSON file, replaced atomically) */
export function storedLease(lab: Lab, node: string): Lease | undefined {
  let s: { leases?: Record<string, Lease> } | undefined;
  try { s = JSON.parse(fs.readFileSync(path.join(lab.state.storeDir, 'leases.json'), 'utf8')) as typeof s; } catch { return undefined; }
  return Object.values(s?.leases ?? {}).find((l) => l.node === node);
}

export function agentStatus(lab: Lab, node: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(lab.node(node).runDir, 'status.json'), 'utf8')) as Record<string, unknown>;
}

/**
 * Pings `to` from namespace `ns` at 100 packets a second while `during` runs (plus a second either side).
 * `sent` counts the pings up to the last one answered and `received` the answers among them: a ping still in
 * flight when SIGINT stops ping is not a lost one (a loaded machine can leave one there). A network that
 * stops answering for good shows as a small `sent`.
 */
export async function flood100pps(ns: string, to: string, during: () => Promise<void>): Promise<{ sent: number; received: number }> {
  const { spawnIn } = await import('../../lib/lab/sh');
  const p = spawnIn(ns, 'ping', ['-i', '0.01', '-W', '1', to], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  // 'close', not 'exit': the summary may still be in the pipe when ping has exited
  const done = new Promise<void>((r) => p.once('close', () => r()));
  await new Promise((r) => setTimeout(r, 1000));
  await during();
  await new Promise((r) => setTimeout(r, 1000));
  p.kill('SIGINT'); // ping prints its summary on SIGINT
  await done;
  if (!/\d+ packets transmitted/.test(out)) throw new Error(`no ping summary in: ${out.slice(-300)}`);
  const answered = new Set([...out.matchAll(/ bytes from .*? icmp_seq=(\d+) /g)].map((m) => Number(m[1])));
  return { sent: Math.max(0, ...answered), received: answered.size };
}

/** A busybox bundle (removed at teardown) that prints its eth0 address and pings `ip` twice, for `berth lab run`. */
export async function pingBundle(t: { teardown(fn: () => unknown): void }, ip: string): Promise<string> {
  const { busyboxRootfs } = await import('../../lib/lab/demo');
  const { defaultSpec } = await import('../../lib/runtime/spec/default');
  const bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-labrun-'));
  t.teardown(() => fs.rmSync(bundle, { recursive: true, force: true }));
  busyboxRootfs(path.join(bundle, 'rootfs'));
  const spec = defaultSpec();
  spec.process!.terminal = false;
  spec.process!.args = ['sh', '-c', `ip -o -4 addr show eth0; ping -c 2 -W 2 ${ip}`];
  // ping needs a raw socket
  spec.process!.capabilities = { bounding: ['CAP_NET_RAW'], effective: ['CAP_NET_RAW'], permitted: ['CAP_NET_RAW'] };
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
  return bundle;
}
