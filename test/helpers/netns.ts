// Test helper: named network namespaces (ip netns) created per test and always removed, plus commands
// run inside them. Names carry the purpose and our pid so parallel runs and leftovers are recognisable.
import { execFileSync, spawn, ChildProcess, SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { programDir } from './frontend';

export interface TestNetns {
  name: string;
  path: string;
  /** runs a command inside (ip netns exec) and returns stdout; throws on a non-zero exit */
  exec(cmd: string, args: string[], opts?: { input?: string | Buffer; env?: NodeJS.ProcessEnv }): string;
  /** like exec but returns {status, stdout, stderr} instead of throwing */
  run(cmd: string, args: string[], opts?: { input?: string | Buffer; env?: NodeJS.ProcessEnv }): { status: number; stdout: string; stderr: string };
  /** starts a long-running process inside (nsenter keeps /sys intact); kill it with killChild */
  spawn(cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  remove(): void;
}

let counter = 0;

export function createNetns(purpose: string): TestNetns {
  const name = `berth-${purpose}-${process.pid}-${counter++}`;
  execFileSync('ip', ['netns', 'add', name]);
  const path = `/run/netns/${name}`;
  // loopback up: many tests talk to 127.0.0.1 or need lo for local delivery
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  const run: TestNetns['run'] = (cmd, args, opts = {}) => {
    try {
      const stdout = execFileSync('nsenter', [`--net=${path}`, cmd, ...args], { input: opts.input, env: opts.env ?? process.env, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
      return { status: 0, stdout, stderr: '' };
    } catch (e) {
      const err = e as { status?: number; stdout?: string; stderr?: string };
      return { status: err.status ?? 1, stdout: String(err.stdout ?? ''), stderr: String(err.stderr ?? '') };
    }
  };
  return {
    name,
    path,
    run,
    exec(cmd, args, opts) {
      const r = run(cmd, args, opts);
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} in ${name} exited ${r.status}: ${r.stderr}${r.stdout}`);
      return r.stdout;
    },
    spawn(cmd, args, opts = {}) {
      return spawn('nsenter', [`--net=${path}`, cmd, ...args], opts);
    },
    remove() {
      if (fs.existsSync(path)) execFileSync('ip', ['netns', 'delete', name]);
    },
  };
}

/** Kills a process we started and waits for it to exit. */
export async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await done;
}

/** Links "a" (in ns a) and "b" (in ns b) with a veth pair named as given. */
export function connect(a: TestNetns, aIf: string, b: TestNetns, bIf: string): void {
  execFileSync('ip', ['-n', a.name, 'link', 'add', aIf, 'type', 'veth', 'peer', 'name', bIf, 'netns', b.name]);
  execFileSync('ip', ['-n', a.name, 'link', 'set', aIf, 'up']);
  execFileSync('ip', ['-n', b.name, 'link', 'set', bIf, 'up']);
}

/** Our plugins first, then the reference plugins (Debian containernetworking-plugins). */
export const CNI_PATH = `${programDir()}:/usr/lib/cni`;

/** A node namespace linked to an "outside" one (up0 -- down0), a container namespace, an IPAM data dir. */
export interface NodeOutsideLab { node: TestNetns; outside: TestNetns; ctr: TestNetns; dataDir: string }

/**
 * The CNI tests' small lab: node (192.168.200.1 or fd00:200::1) -- outside (.2 / ::2), and a container
 * namespace; everything is removed at the test's end.
 */
export function nodeOutsideLab(t: { teardown(fn: () => void): void }, family: 4 | 6 = 4): NodeOutsideLab {
  const node = createNetns('node');
  const outside = createNetns('outside');
  const ctr = createNetns('ctr');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ipam-'));
  t.teardown(() => { ctr.remove(); outside.remove(); node.remove(); fs.rmSync(dataDir, { recursive: true, force: true }); });
  connect(node, 'up0', outside, 'down0');
  const [a, b, extra] = family === 4 ? ['192.168.200.1/24', '192.168.200.2/24', []] : ['fd00:200::1/64', 'fd00:200::2/64', ['nodad']];
  node.exec('ip', ['addr', 'add', a, 'dev', 'up0', ...extra]);
  outside.exec('ip', ['addr', 'add', b, 'dev', 'down0', ...extra]);
  return { node, outside, ctr, dataDir };
}

export interface CniCall { command: 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'GC' | 'STATUS'; containerId?: string; netns?: string; ifname?: string; args?: string }
export interface CniOutcome { status: number; json: Record<string, unknown> | undefined; stdout: string; stderr: string }

/** Runs a CNI plugin (by type, found in CNI_PATH) as a runtime would, from inside the node netns. */
export function cni(node: TestNetns, type: string, call: CniCall, conf: object | string): CniOutcome {
  const file = CNI_PATH.split(':').map((d) => `${d}/${type}`).find((f) => fs.existsSync(f));
  if (!file) throw new Error(`plugin ${type} not found in ${CNI_PATH}`);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, CNI_COMMAND: call.command, CNI_CONTAINERID: call.containerId ?? 'ctr1', CNI_NETNS: call.netns ?? '',
    CNI_IFNAME: call.ifname ?? 'eth0', CNI_PATH, CNI_ARGS: call.args ?? '',
    // a plugin's cold path would start a berth server (issue 13): tests start their own
    BERTH_NO_AUTOSTART: process.env.BERTH_NO_AUTOSTART ?? '1',
  };
  const r = node.run(file, [], { input: typeof conf === 'string' ? conf : JSON.stringify(conf), env });
  let json: Record<string, unknown> | undefined;
  try {
    json = r.stdout.trim() ? JSON.parse(r.stdout) : undefined;
  } catch {
    json = undefined;
  }
  return { ...r, json };
}

/** Runs a list of plugins as a conflist, ADD in order passing prevResult, returning the last result. */
export function cniChainAdd(node: TestNetns, list: { cniVersion: string; name: string; plugins: Record<string, unknown>[] }, call: Omit<CniCall, 'command'>): CniOutcome {
  let prev: unknown;
  let last: CniOutcome | undefined;
  for (const p of list.plugins) {
    const conf = { cniVersion: list.cniVersion, name: list.name, ...p, ...(prev ? { prevResult: prev } : {}) };
    last = cni(node, String(p.type), { ...call, command: 'ADD' }, conf);
    if (last.status !== 0) return last;
    prev = last.json;
  }
  return last!;
}

/** DEL in reverse order, each with the final result as prevResult; returns the first failure, if any. */
export function cniChainDel(node: TestNetns, list: { cniVersion: string; name: string; plugins: Record<string, unknown>[] }, call: Omit<CniCall, 'command'>, prevResult?: unknown): CniOutcome | undefined {
  let failed: CniOutcome | undefined;
  for (const p of [...list.plugins].reverse()) {
    const conf = { cniVersion: list.cniVersion, name: list.name, ...p, ...(prevResult ? { prevResult } : {}) };
    const r = cni(node, String(p.type), { ...call, command: 'DEL' }, conf);
    if (r.status !== 0 && !failed) failed = r;
  }
  return failed;
}

/**
 * A TCP server inside ns that answers each connection with the peer's address and its own tag, then
 * closes. Resolves once it listens; stop it with killChild.
 */
export async function peerServer(ns: TestNetns, port: number, tag = 'server'): Promise<ChildProcess> {
  const code = `require('net').createServer((s) => s.end(s.remoteAddress.replace(/^::ffff:/, '') + ' ${tag}\\n'))` +
    `.listen(${port}, '::', () => console.log('ready'))`;
  const child = ns.spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`peer server exited ${c}`)));
  });
  return child;
}

/** Connects from inside ns and returns what the server said ('' on failure within timeoutMs). */
export function tcpAsk(ns: TestNetns, host: string, port: number, timeoutMs = 2000): string {
  const code = `const s = require('net').connect(${port}, '${host}'); let d = ''; s.on('data', (x) => d += x);` +
    `s.on('end', () => { process.stdout.write(d); process.exit(0); }); s.on('error', () => process.exit(1)); setTimeout(() => process.exit(2), ${timeoutMs});`;
  return ns.run(process.execPath, ['-e', code]).stdout.trim();
}

export function ping(ns: TestNetns, ip: string): boolean {
  return ns.run('busybox', ['ping', '-c', '1', '-W', '1', ip]).status === 0;
}

/** Polls cond every 20 ms for up to ms; the kernel tears down a deleted netns's devices asynchronously. */
export async function eventually(cond: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (cond()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}
