// CVE-2019-5736 class: a container must not be able to overwrite the host binary of the runtime that
// launches into it. The image has /bin/tool -> /proc/self/exe; the admin runs `berth exec C /bin/tool`
// (or `run`/`create` with that program). Were the bootstrap (a fork of node) to execve it, node would run
// again inside the container, dumpable, and the container's attacker would open /proc/<pid>/exe and
// write node once nothing executes it any more. The attack is performed for real, on a COPY of node that
// runs the berth CLI, never on the machine's node: the attacker (test/helpers/exe-attacker.c) may only
// write a target whose link names that copy or the exec shim's memfd.
// Then: ordinary programs, scripts, a non-root user, exec errors and a binary with file capabilities
// behave exactly as under runc, which runs the same bundles as the control.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { baseSpec, makeRootfs, uniqueId } from '../helpers/bundle';
import { berth } from '../helpers/run';
import { requireRunc, runc, runcRun } from '../helpers/runc-sync';
import { native } from '../../lib/sys/native';
import type { Spec } from '../../lib/runtime/spec/types';

requireRunc();
for (const tool of ['cc', 'ldd']) {
  try { execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }); } catch { throw new Error(`${tool} not found: install build-essential (scripts/setup.sh)`); }
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-sec-exe-'));
fs.chmodSync(scratch, 0o755);
t.teardown(() => fs.rmSync(scratch, { recursive: true, force: true }));

const ATTACKER_SOURCE = path.resolve(__dirname, '..', '..', '..', 'test', 'helpers', 'exe-attacker.c');
const attacker = path.join(scratch, 'attacker');
execFileSync('cc', ['-O2', '-static', '-o', attacker, ATTACKER_SOURCE]);

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** A fresh copy of this node, the interpreter every berth CLI of the attack runs with. */
function nodeCopy(name: string): string {
  const dir = path.join(scratch, name);
  fs.mkdirSync(dir, { recursive: true });
  const copy = path.join(dir, 'node');
  fs.copyFileSync(process.execPath, copy);
  fs.chmodSync(copy, 0o755);
  return copy;
}

// The root filesystem: busybox, the attacker, /bin/tool -> /proc/self/exe, and node's shared libraries, so
// that a re-executed node really starts inside the container (without them execve fails with ENOENT
// before node replaces the process, and the attack would prove nothing).
const rootfs = path.join(scratch, 'rootfs');
makeRootfs(rootfs);
fs.chmodSync(rootfs, 0o755);
fs.copyFileSync(attacker, path.join(rootfs, 'attacker'));
fs.chmodSync(path.join(rootfs, 'attacker'), 0o755);
fs.symlinkSync('/proc/self/exe', path.join(rootfs, 'bin', 'tool'));
for (const lib of execFileSync('ldd', [process.execPath], { encoding: 'utf8' }).match(/\/\S+/g) ?? []) {
  fs.mkdirSync(path.join(rootfs, path.dirname(lib)), { recursive: true });
  fs.copyFileSync(lib, path.join(rootfs, lib));
}

function writeBundle(name: string, args: string[], edit?: (s: Spec) => void): string {
  const dir = path.join(scratch, name);
  fs.mkdirSync(dir, { recursive: true });
  const spec = baseSpec(args);
  spec.root = { path: rootfs, readonly: false };
  edit?.(spec);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec, null, 2));
  return dir;
}

// Each pass through /proc/self/exe consumes one argument (the shim is invoked as [path, argv...]), so 2000
// copies of /bin/tool keep the re-executed binary running long enough for the attacker to catch it, in
// both worlds; the last one runs `sleep 1`.
const TOOL_ARGS = ['/bin/tool', ...Array<string>(2000).fill('/bin/tool'), '/bin/sleep', 'sleep', '1'];
const SHIM = '/memfd:berth-exec-shim';

interface Attack {
  root: string;
  copy: string;
  result: string;
  id: string;
  pid: number;
}

/** Starts the attacker as the init of a container, run by the copy of node `copy`. */
async function startAttacker(t: Test, name: string): Promise<Attack> {
  const copy = nodeCopy(name);
  const root = path.join(scratch, name, 'state');
  const result = `/result-${name}`;
  fs.rmSync(path.join(rootfs, result), { force: true });
  const id = uniqueId(`sec-exe-${name}`);
  const dir = writeBundle(`${name}-attacker`, ['/attacker', result, '15', path.dirname(copy), SHIM]);
  const r = await berth(['--root', root, 'run', '--detach', '--bundle', dir, id], undefined, copy);
  t.equal(r.code, 0, `attacker container: ${r.stderr}`);
  t.teardown(() => berth(['--root', root, 'delete', '--force', id]));
  await waitFor(() => fs.existsSync(path.join(rootfs, result)) && fs.readFileSync(path.join(rootfs, result), 'utf8').includes('ready=1'));
  const state = JSON.parse((await berth(['--root', root, 'state', id])).stdout) as { pid: number };
  return { root, copy, result: path.join(rootfs, result), id, pid: state.pid };
}

async function waitFor(ok: () => boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The attacker's report once it is done (it stops after one target, or at its deadline). */
async function report(a: Attack): Promise<Record<string, string>> {
  await waitFor(() => /^(etxtbsy|target=none)/m.test(fs.readFileSync(a.result, 'utf8')));
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(a.result, 'utf8').trim().split('\n')) {
    const eq = line.indexOf('=');
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function assertDefended(t: Test, a: Attack, hash: string, seen: Record<string, string>): void {
  t.equal(sha256(a.copy), hash, 'the copy of node is unchanged');
  t.match(seen.target, new RegExp(`^${SHIM}`), 'what /proc/self/exe ran in the container is the sealed shim, not node');
  t.ok(Number(seen.etxtbsy) > 0 || seen.reopen === 'ok', 'the attacker held it and waited out ETXTBSY');
  t.equal(seen.write, 'EPERM', 'the write was refused: the memfd is sealed');
}

t.test('exec /bin/tool: the container cannot write the node that launched into it', async (t) => {
  const a = await startAttacker(t, 'exec');
  const hash = sha256(a.copy);
  const r = await berth(['--root', a.root, 'exec', a.id, ...TOOL_ARGS], undefined, a.copy);
  t.comment(`exec: ${r.code} ${r.stderr.trim().split('\n')[0] ?? ''}`);
  const seen = await report(a);
  t.comment(JSON.stringify(seen));
  assertDefended(t, a, hash, seen);
});

/** A container whose program is /bin/tool, in the attacker's pid namespace so that the attacker sees it. */
function victimBundle(name: string, attackerPid: number): string {
  return writeBundle(`${name}-victim`, TOOL_ARGS, (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'pid' ? { type: 'pid', path: `/proc/${attackerPid}/ns/pid` } : n));
  });
}

t.test('run with /bin/tool as the program: the same', async (t) => {
  const a = await startAttacker(t, 'run');
  const hash = sha256(a.copy);
  const id = uniqueId('sec-exe-run-victim');
  const r = await berth(['--root', a.root, 'run', '--bundle', victimBundle('run', a.pid), id], undefined, a.copy);
  t.comment(`run: ${r.code} ${r.stderr.trim().split('\n')[0] ?? ''}`);
  await berth(['--root', a.root, 'delete', '--force', id]);
  const seen = await report(a);
  t.comment(JSON.stringify(seen));
  assertDefended(t, a, hash, seen);
});

t.test('create + start with /bin/tool as the program: the same', async (t) => {
  const a = await startAttacker(t, 'create');
  const hash = sha256(a.copy);
  const id = uniqueId('sec-exe-create-victim');
  const created = await berth(['--root', a.root, 'create', '--bundle', victimBundle('create', a.pid), id], undefined, a.copy);
  t.equal(created.code, 0, created.stderr);
  const started = await berth(['--root', a.root, 'start', id], undefined, a.copy);
  t.equal(started.code, 0, started.stderr);
  const seen = await report(a);
  await berth(['--root', a.root, 'delete', '--force', id]);
  t.comment(JSON.stringify(seen));
  assertDefended(t, a, hash, seen);
});

t.test('the shim in this process is sealed: writing it through /proc/self/fd fails', async (t) => {
  const fd = native().execShimFd();
  t.throws(() => fs.writeFileSync(`/proc/self/fd/${fd}`, 'x'), { code: 'EPERM' }, 'open with O_TRUNC: F_SEAL_SHRINK');
  const w = fs.openSync(`/proc/self/fd/${fd}`, 'r+');
  t.teardown(() => fs.closeSync(w));
  t.throws(() => fs.writeSync(w, 'x', 0), { code: 'EPERM' }, 'write: F_SEAL_WRITE');
  t.equal(fs.readlinkSync(`/proc/self/fd/${fd}`), `${SHIM} (deleted)`);
});

// ---- the same behaviour as runc for everything that is not an attack ----

interface Outcome { code: number; stdout: string; stderr: string }

async function both(t: Test, name: string, args: string[], edit?: (s: Spec) => void): Promise<[Outcome, Outcome]> {
  const dir = writeBundle(`same-${name}`, args, edit);
  const root = path.join(dir, 'state');
  const b = await berth(['--root', root, 'run', '--bundle', dir, uniqueId(`sec-exe-same-${name}`)]);
  const r = runcRun(path.join(dir, 'runc'), dir, uniqueId(`sec-exe-same-${name}-runc`));
  return [b, r];
}

const CAPS = 'grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb)" /proc/self/status';

const cases: { name: string; args: string[]; edit?: (s: Spec) => void; setup?: () => void }[] = [
  { name: 'program', args: ['/bin/sh', '-c', 'echo "$0 $1"; readlink /proc/self/exe; cat /proc/self/comm; exit 7', 'zero', 'one'] },
  { name: 'program on PATH', args: ['sh', '-c', 'echo hi; tr "\\0" " " </proc/self/cmdline'] },
  {
    name: 'script',
    args: ['/entry.sh', 'arg'],
    setup: () => fs.writeFileSync(path.join(rootfs, 'entry.sh'), '#!/bin/sh\necho "script $0 $1"; readlink /proc/self/exe\n', { mode: 0o755 }),
  },
  {
    name: 'non-root user',
    args: ['/bin/sh', '-c', `id -u; id -g; ${CAPS}`],
    edit: (s) => { s.process!.user = { uid: 1000, gid: 1000, additionalGids: [1001] }; },
  },
  {
    name: 'ambient capabilities, non-root',
    args: ['/bin/sh', '-c', CAPS],
    edit: (s) => {
      s.process!.user = { uid: 1000, gid: 1000 };
      const c = s.process!.capabilities!;
      for (const set of ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const) c[set] = ['CAP_NET_BIND_SERVICE', 'CAP_KILL'];
    },
  },
  {
    name: 'file capabilities, non-root',
    args: ['/capbox/busybox', 'grep', '^Cap', '/proc/self/status'],
    edit: (s) => {
      s.process!.user = { uid: 1000, gid: 1000 };
      s.process!.noNewPrivileges = false;
    },
    setup: () => {
      // named busybox, so that `busybox grep` runs the applet in this very process
      fs.mkdirSync(path.join(rootfs, 'capbox'), { recursive: true });
      const capbox = path.join(rootfs, 'capbox', 'busybox');
      fs.copyFileSync(path.join(rootfs, 'bin', 'busybox'), capbox);
      fs.chmodSync(capbox, 0o755);
      // struct vfs_cap_data, revision 2, effective: permitted = CAP_NET_BIND_SERVICE (10), which the
      // bounding set has (a file capability outside it makes execve fail with EPERM, under runc too)
      const data = Buffer.alloc(20);
      data.writeUInt32LE(0x02000000 | 1, 0);
      data.writeUInt32LE(1 << 10, 4);
      native().lsetxattr(capbox, 'security.capability', data);
    },
  },
  { name: 'missing executable', args: ['nosuch'] },
  {
    name: 'exec format error',
    args: ['/garbage'],
    setup: () => fs.writeFileSync(path.join(rootfs, 'garbage'), 'not a program\n', { mode: 0o755 }),
  },
  {
    name: 'missing interpreter',
    args: ['/badinterp'],
    setup: () => fs.writeFileSync(path.join(rootfs, 'badinterp'), '#!/nonexistent\n', { mode: 0o755 }),
  },
];

for (const c of cases) {
  t.test(`as under runc: ${c.name}`, async (t) => {
    c.setup?.();
    const [b, r] = await both(t, c.name.replace(/\W+/g, '-'), c.args, c.edit);
    if (c.name.startsWith('file capabilities')) t.match(b.stdout, /CapEff:\s+0000000000000400/, 'the file capabilities were granted');
    t.equal(b.code, r.code, `exit status (berth: ${b.stderr.trim()})`);
    t.equal(b.stdout, r.stdout, 'output');
    if (c.name === 'missing executable') {
      t.match(b.stderr, /exec: "nosuch": executable file not found in \$PATH/);
      t.match(r.stderr, /exec: \\"nosuch\\": executable file not found in \$PATH/, 'runc (its log line escapes the quotes)');
    } else {
      // runc's own lines carry its log prefix: compare the messages
      t.equal(b.stderr.trim(), r.stderr.trim(), 'errors');
    }
  });
}

t.test('as under runc: exec into a running container (non-root, capabilities, script, errors)', async (t) => {
  for (const c of cases) c.setup?.();
  const dir = writeBundle('same-exec', ['/bin/sleep', '30']);
  const root = path.join(dir, 'state');
  // two ids: the container's cgroup is named after it
  const id = uniqueId('sec-exe-same-exec');
  const rid = `${id}-runc`;
  const rroot = path.join(dir, 'runc');
  t.equal((await berth(['--root', root, 'run', '--detach', '--bundle', dir, id])).code, 0);
  t.teardown(() => berth(['--root', root, 'delete', '--force', id]));
  t.equal(runc(rroot, ['run', '--detach', '--bundle', dir, rid]).code, 0);
  t.teardown(() => runc(rroot, ['delete', '--force', rid]));
  const execs: [flags: string[], args: string[]][] = [
    [['--user', '1000:1000'], ['/bin/sh', '-c', `id -u; ${CAPS}`]],
    [[], ['/entry.sh', 'x']],
    [[], ['/capbox/busybox', 'grep', '^Cap', '/proc/self/status']],
    [[], ['/garbage']],
    [[], ['/badinterp']],
  ];
  for (const [flags, args] of execs) {
    const b = await berth(['--root', root, 'exec', ...flags, id, ...args]);
    const r = runc(rroot, ['exec', ...flags, rid, ...args]);
    const what = `exec ${[...flags, ...args].join(' ')}`;
    t.equal(b.code, r.code, `${what}: status (berth: ${b.stderr.trim()}; runc: ${r.stderr.trim()})`);
    t.equal(b.stdout, r.stdout, `${what}: output`);
    t.equal(b.stderr, r.stderr, `${what}: errors`);
  }
  // runc exits 255 on its own errors, berth 1 (README): compare the wording of a failed lookup only
  const b = await berth(['--root', root, 'exec', id, 'nosuch']);
  const r = runc(rroot, ['exec', rid, 'nosuch']);
  t.match(b.stderr, /exec: "nosuch": executable file not found in \$PATH/);
  t.match(r.stderr, /exec: \\"nosuch\\": executable file not found in \$PATH/);
});
