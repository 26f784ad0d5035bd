// Every refusal the privileged tests check through `berth create` / `berth run` as root, here without
// root: the same config.json through the same lifecycle (create and run on the recording fake of the
// kernel seam), the same one-line message, and nothing left behind. Each row names the privileged case it
// mirrors; a last test reads the privileged files and fails when one of their refusals has no row here.
// Refusals the C bootstrap makes (a missing executable, a mount source, a cwd, a namespace path: they
// depend on the container's mounts or the host at that moment) are mirrored by the report the bootstrap
// sends for the plan the lifecycle built, turned into the message by the same code.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as util from 'node:util';
import { execFileSync, spawnSync } from 'node:child_process';
import { BootstrapError, STEP_LOOKUP } from '../../lib/runtime/bootstrap-steps';
import { createStored, del, exec, kill, start, stored, type CreateOptions } from '../../lib/runtime/lifecycle';
import { run } from '../../lib/runtime/lifecycle/run';
import type { LaunchPlan } from '../../lib/runtime/launch-plan';
import type { Spec } from '../../lib/runtime/spec/types';
import { claimId, readIntent } from '../../lib/runtime/state';
import { baseSpec, uniqueId } from '../helpers/bundle';
import { FakeSys } from '../helpers/fake-sys';

const ROOT = '/fake/run/berth';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-refusals-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A bundle as the privileged tests write it (test/helpers/run.ts bundle()): runc's default config. */
function bundleDir(args: string[], edit?: (s: Spec) => void, raw?: string): string {
  const dir = fs.mkdtempSync(path.join(tmp, 'bundle-'));
  const spec = baseSpec(args);
  spec.root = { path: '/berth-test-rootfs', readonly: false };
  edit?.(spec);
  fs.writeFileSync(path.join(dir, 'config.json'), raw ?? JSON.stringify(spec, null, 2));
  return dir;
}

/** What the bootstrap reports for a plan: step (by its name), errno, index and detail. */
type Report = (plan: LaunchPlan) => { step: string; errno: string; index: number; detail: string };

const stepNumber = (name: string): number => {
  for (let n = 0; n < 256; n++) if (new BootstrapError(n, 0, 0, '', '').step === name) return n;
  throw new Error(`no bootstrap step "${name}"`);
};
// as the launcher names an errno (lib/runtime/launcher.ts)
const errnoName = (errno: number) => { const [code, text] = util.getSystemErrorMap().get(-errno)!; return `${code} (${text})`; };

/** A fake whose launch fails as the bootstrap would for the plan it is given. */
function fakeBootstrap(report?: Report): FakeSys {
  const fake = new FakeSys();
  if (!report) return fake;
  const launch = fake.launch;
  fake.launch = async (plan, callbacks) => {
    const r = report(plan);
    const launched = await launch(plan, callbacks);
    fake.processes.delete(launched.pid); // launch() kills and reaps a child whose bootstrap failed
    const errno = os.constants.errno[r.errno as keyof typeof os.constants.errno];
    throw new BootstrapError(stepNumber(r.step), errno, r.index, r.detail, errnoName(errno));
  };
  return fake;
}

interface Row {
  /** the privileged file and case this row mirrors */
  mirrors: string;
  edit?: (s: Spec) => void;
  raw?: string;
  /** --bundle, when not the row's own */
  bundle?: string;
  /** refused by the bootstrap, with this report for the plan */
  bootstrap?: Report;
  /** refused while planning, once the container's directory is claimed (undone); default: before anything */
  planned?: true;
  /** the one line berth prints after "berth: " */
  message: string;
}

const without = (type: string) => (s: Spec) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== type); };
const set = (o: object, key: string, value: unknown) => { (o as Record<string, unknown>)[key] = value; };

const RUNTIME_ERRORS: Row[] = [
  { mirrors: 'runtime-errors: missing bundle', bundle: '/nonexistent/berth-bundle', message: '--bundle: bundle /nonexistent/berth-bundle: no config.json (no such directory)' },
  { mirrors: 'runtime-errors: invalid JSON', raw: '{"ociVersion": "1.2.0", "process": ', message: 'BUNDLE/config.json: invalid JSON: Unexpected end of JSON input' },
  { mirrors: 'runtime-errors: unknown namespace type', edit: (s) => { s.linux!.namespaces!.push({ type: 'bogus' as never }); }, message: 'linux.namespaces[5].type: unknown namespace type "bogus"' },
  {
    mirrors: 'runtime-errors: missing executable', edit: (s) => { s.process!.args = ['/bin/no-such-program']; },
    bootstrap: (p) => ({ step: 'find executable', errno: 'ENOENT', index: 0, detail: p.args[0] }),
    message: 'process.args: exec: "/bin/no-such-program": stat /bin/no-such-program: no such file or directory',
  },
  {
    mirrors: 'runtime-errors: program not in PATH', edit: (s) => { s.process!.args = ['frobnicate']; },
    bootstrap: (p) => ({ step: 'find executable', errno: 'ENOENT', index: 0, detail: p.args[0] }),
    message: 'process.args: exec: "frobnicate": executable file not found in $PATH',
  },
  {
    mirrors: 'runtime-errors: bad mount source', edit: (s) => { s.mounts!.push({ destination: '/data', type: 'bind', source: '/nonexistent/berth-src', options: ['rbind'] }); },
    bootstrap: (p) => { const m = p.mounts.find((x) => x.target === '/data')!; return { step: 'mount', errno: 'ENOENT', index: m.index, detail: m.source! }; },
    message: 'mounts[7]: mount /nonexistent/berth-src: ENOENT (no such file or directory)',
  },
  { mirrors: 'runtime-errors: mapping without a user namespace', edit: (s) => { s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]; }, message: 'linux.uidMappings: mappings need a new user namespace in linux.namespaces' },
  { mirrors: 'runtime-errors: unknown capability', edit: (s) => { s.process!.capabilities!.bounding = ['CAP_NOPE']; }, planned: true, message: 'process.capabilities.bounding[0]: unknown capability "CAP_NOPE"' },
  { mirrors: 'runtime-errors: unknown rlimit', edit: (s) => { s.process!.rlimits = [{ type: 'RLIMIT_NOPE', soft: 1, hard: 1 }]; }, planned: true, message: 'process.rlimits[0].type: unknown rlimit type "RLIMIT_NOPE"' },
  { mirrors: 'runtime-errors: relative cwd', edit: (s) => { s.process!.cwd = 'tmp'; }, message: 'process.cwd: must be an absolute path' },
  {
    mirrors: 'runtime-errors: cwd below a file', edit: (s) => { s.process!.cwd = '/bin/sh/dir'; },
    bootstrap: (p) => ({ step: 'enter working directory', errno: 'ENOTDIR', index: 0, detail: p.cwd }),
    message: 'process.cwd: enter working directory /bin/sh/dir: ENOTDIR (not a directory)',
  },
  { mirrors: 'runtime-errors: proc destination with another filesystem', edit: (s) => { s.mounts![0] = { destination: '/proc', type: 'tmpfs', source: 'tmpfs' }; }, message: 'mounts[0]: mount /proc may only receive a procfs mount' },
  { mirrors: 'runtime-errors: bad seccomp action', edit: (s) => { s.linux!.seccomp = { defaultAction: 'SCMP_ACT_NOPE' }; }, message: 'linux.seccomp.defaultAction: unknown action "SCMP_ACT_NOPE"' },
  { mirrors: 'runtime-errors: hostname without uts namespace', edit: without('uts'), message: 'hostname: setting the hostname needs a uts namespace' },
  {
    mirrors: 'runtime-errors: join a namespace that does not exist',
    edit: (s) => { s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: '/run/netns/berth-none' } : n)); },
    bootstrap: (p) => ({ step: 'join namespace', errno: 'ENOENT', index: 0, detail: p.join[0].path }),
    message: 'linux.namespaces (path #0): join namespace /run/netns/berth-none: ENOENT (no such file or directory)',
  },
];

// security-config runs each through `berth run`, with runc beside it as the control
const userns = (uid: { containerID: number; hostID: number; size: number }[]) => (s: Spec) => {
  s.linux!.namespaces!.push({ type: 'user' });
  s.linux!.uidMappings = uid;
  s.linux!.gidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
  s.mounts = s.mounts!.filter((m) => !m.destination.startsWith('/sys'));
};
const SECURITY_CONFIG: Row[] = [
  { mirrors: 'security-config: a host-wide kernel.* sysctl', edit: (s) => { s.linux!.sysctl = { 'kernel.printk_ratelimit_burst': '11' }; }, message: 'linux.sysctl.kernel.printk_ratelimit_burst: sysctl "kernel.printk_ratelimit_burst" is not in a separate kernel namespace' },
  { mirrors: 'security-config: the slash form of a host-wide sysctl', edit: (s) => { s.linux!.sysctl = { 'kernel/printk_ratelimit_burst': '11' }; }, message: 'linux.sysctl.kernel/printk_ratelimit_burst: sysctl "kernel.printk_ratelimit_burst" is not in a separate kernel namespace' },
  { mirrors: 'security-config: kernel.hostname beside the hostname field', edit: (s) => { s.linux!.sysctl = { 'kernel.hostname': 'other' }; }, message: 'linux.sysctl.kernel.hostname: sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field' },
  { mirrors: 'security-config: an IPC sysctl without an ipc namespace', edit: (s) => { without('ipc')(s); s.linux!.sysctl = { 'kernel.shmmni': '100' }; }, message: 'linux.sysctl.kernel.shmmni: sysctl "kernel.shmmni" is not allowed in the hosts ipc namespace' },
  { mirrors: 'security-config: net.* without a network namespace', edit: (s) => { without('network')(s); s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' }; }, message: 'linux.sysctl.net.ipv4.ip_forward: sysctl "net.ipv4.ip_forward" not allowed in host network namespace' },
  { mirrors: 'security-config: user.* without a user namespace', edit: (s) => { s.linux!.sysctl = { 'user.max_user_namespaces': '0' }; }, message: 'linux.sysctl.user.max_user_namespaces: setting ucounts without a user namespace not allowed: user.max_user_namespaces' },
  { mirrors: 'security-config: uid 4294967295 ((uid_t)-1: setresuid leaves root)', edit: (s) => { s.process!.user.uid = 4294967295; }, message: 'process.user.uid: uids and gids must be in range 0-2147483647, got 4294967295' },
  { mirrors: 'security-config: gid 4294967295', edit: (s) => { s.process!.user.gid = 4294967295; }, message: 'process.user.gid: uids and gids must be in range 0-2147483647, got 4294967295' },
  { mirrors: 'security-config: uid 2147483648', edit: (s) => { s.process!.user.uid = 2147483648; }, message: 'process.user.uid: uids and gids must be in range 0-2147483647, got 2147483648' },
  { mirrors: 'security-config: additional gid 4294967295', edit: (s) => { s.process!.user.additionalGids = [4294967295]; }, message: 'process.user.additionalGids[0]: uids and gids must be in range 0-2147483647, got 4294967295' },
  { mirrors: 'security-config: a uid mapping to host id 4294967295', edit: userns([{ containerID: 0, hostID: 4294967295, size: 1 }]), message: 'linux.uidMappings[0]: hostID 4294967295 + size 1 reaches 4294967295 ((uid_t)-1), which no mapping may include' },
  { mirrors: 'security-config: a uid mapping from container id 4294967295', edit: userns([{ containerID: 0, hostID: 0, size: 1 }, { containerID: 4294967295, hostID: 1000, size: 1 }]), message: 'linux.uidMappings[1]: containerID 4294967295 + size 1 reaches 4294967295 ((uid_t)-1), which no mapping may include' },
  { mirrors: 'security-config: maskedPaths as a string (was ignored: /proc/keys readable)', edit: (s) => { set(s.linux!, 'maskedPaths', '/proc/keys'); s.process!.args = ['/bin/cat', '/proc/keys']; }, message: 'linux.maskedPaths: expected array, got string' },
  { mirrors: 'security-config: a number where a string is expected', edit: (s) => { set(s.linux!, 'sysctl', { 'kernel.shmmni': 100 }); }, message: 'linux.sysctl.kernel.shmmni: expected string, got number' },
  { mirrors: 'security-config: a string where a uid is expected', edit: (s) => { set(s.process!, 'user', { uid: '0', gid: 0 }); }, message: 'process.user.uid: expected uint32, got string' },
  { mirrors: 'security-config: a boolean as a string', edit: (s) => { set(s.process!, 'noNewPrivileges', 'true'); }, message: 'process.noNewPrivileges: expected boolean, got string' },
  { mirrors: 'security-config: rlimits as an object', edit: (s) => { set(s.process!, 'rlimits', { type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }); }, message: 'process.rlimits: expected array, got object' },
  { mirrors: 'security-config: null root', edit: (s) => { set(s, 'root', null); }, message: 'root.path: missing' },
  { mirrors: 'security-config: null process', edit: (s) => { set(s, 'process', null); }, message: 'process: missing: a container needs a process' },
  { mirrors: 'security-config: a null namespace', edit: (s) => { (s.linux!.namespaces as unknown[]).push(null); }, message: 'linux.namespaces[5]: expected object, got null' },
  { mirrors: 'security-config: a NUL byte in a mount destination (was mounted at /tmp/a)', edit: (s) => { s.mounts!.push({ destination: '/tmp/a\0b', type: 'tmpfs', source: 'tmpfs' }); }, message: 'mounts[7].destination: contains a NUL byte' },
  { mirrors: 'security-config: a NUL byte in args', edit: (s) => { s.process!.args = ['/bin/sh\0x', '-c', 'id']; }, message: 'process.args[0]: contains a NUL byte' },
  { mirrors: 'security-config: a NUL byte in env', edit: (s) => { s.process!.env = ['A=b\0c']; }, message: 'process.env[0]: contains a NUL byte' },
  { mirrors: 'security-config: a NUL byte in the hostname', edit: (s) => { s.hostname = 'ab\0cd'; }, message: 'hostname: contains a NUL byte' },
];

/** The command's error as berth prints it (main.ts: "berth: " + message), BUNDLE for the bundle's path. */
async function refusal(command: 'create' | 'run', row: Row, fake: FakeSys): Promise<{ line: string; dir: string; id: string }> {
  const dir = bundleDir(['/bin/true'], row.edit, row.raw);
  const id = uniqueId('bad');
  const opts: CreateOptions = { id, root: ROOT, bundle: row.bundle ?? dir };
  try {
    if (command === 'create') await createStored(opts, fake);
    else await run(opts, fake);
  } catch (e) {
    return { line: `berth: ${(e as Error).message}`.replaceAll(dir, 'BUNDLE'), dir, id };
  }
  return { line: `(${command} succeeded)`, dir, id };
}

for (const [command, rows] of [['create', RUNTIME_ERRORS], ['run', SECURITY_CONFIG]] as const) {
  t.test(`${command}: each privileged refusal, without root: the same line, nothing left`, async (t) => {
    for (const row of rows) {
      const fake = fakeBootstrap(row.bootstrap);
      const { line } = await refusal(command, row, fake);
      t.equal(line, `berth: ${row.message}`, row.mirrors);
      t.equal(line.split('\n').length, 1, `${row.mirrors}: one line`);
      t.same(fake.leftovers(), [], `${row.mirrors}: nothing left`);
    }
  });
}

t.test('runtime-errors: run (the vfork launch) reports setup errors the same way and leaves nothing', async (t) => {
  const rows = RUNTIME_ERRORS.filter((r) => ['missing executable', 'bad mount source', 'cwd below a file'].some((n) => r.mirrors.endsWith(n)));
  t.equal(rows.length, 3);
  for (const row of rows) {
    const fake = fakeBootstrap(row.bootstrap);
    t.equal((await refusal('run', row, fake)).line, `berth: ${row.message}`, row.mirrors);
    t.same(fake.leftovers(), [], `${row.mirrors}: nothing left`);
  }
});

t.test('where each is refused: before anything exists, while planning (undone), or by the bootstrap', async (t) => {
  for (const row of [...RUNTIME_ERRORS, ...SECURITY_CONFIG]) {
    const fake = fakeBootstrap(row.bootstrap);
    await refusal('create', row, fake);
    const ops = fake.calls.map((c) => c.op);
    if (row.bootstrap) t.ok(ops.includes('launch') && ops.includes('killLaunched'), `${row.mirrors}: launched, then killed`);
    else if (row.planned) t.ok(ops.includes('claim') && !ops.includes('launch') && ops.at(-1) === 'removeContainerDir', `${row.mirrors}: claimed, never launched, undone`);
    else t.same(ops, [], `${row.mirrors}: no call of the kernel seam at all`);
  }
});

t.test('runtime-errors: a duplicate container id is refused and the first container is untouched', async (t) => {
  const root = path.join(tmp, 'state');
  const id = uniqueId('dup');
  await claimId(root, { id });
  await t.rejects(claimId(root, { id, cgroup: { layout: 'v1', paths: {} } }), { message: `container with id exists: ${id}` }, 'the state store refuses the id');
  t.same(await readIntent(root, id), { id }, 'the first container\'s record is unchanged');
  const fake = new FakeSys();
  const dir = bundleDir(['/bin/sleep', '1000']);
  await createStored({ id, root: ROOT, bundle: dir }, fake);
  await t.rejects(createStored({ id, root: ROOT, bundle: dir }, fake), { message: `container with id exists: ${id}` });
  t.equal((await stored(id, { root: ROOT }, fake)).id, id);
  t.ok(fake.processes.size === 1 && fake.files.has(`${ROOT}/${id}/exec.fifo`), 'the first container is still created, waiting on its fifo');
});

const BERTH = path.resolve(__dirname, '..', '..', '..', 'bin', 'berth');
/** The CLI's refusals of its own arguments, made before any command runs: the binary itself. */
function cli(args: string[]): { code: number | null; stderr: string } {
  const r = spawnSync(BERTH, args, { encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr };
}

t.test('runtime-errors: invalid container ids and unknown flags', async (t) => {
  const fake = new FakeSys();
  await t.rejects(createStored({ id: '../escape', root: ROOT, bundle: bundleDir(['/bin/true']) }, fake), { message: 'id: invalid container id format: ../escape' });
  t.same(fake.calls, [], 'nothing claimed');
  const root = path.join(tmp, 'cli-root');
  const flag = cli(['--root', root, 'create', '--frobnicate', 'x']);
  t.same([flag.code, flag.stderr], [1, 'berth: berth create: flag provided but not defined: -frobnicate\n']);
  const systemd = cli(['--systemd-cgroup', 'state', 'x']);
  t.same([systemd.code, systemd.stderr], [1, 'berth: --systemd-cgroup: systemd cgroup driver is not supported by berth: use cgroupfs paths\n']);
  t.notOk(fs.existsSync(root), 'no state root made');
});

t.test('runtime-errors: a native addon that cannot load fails create and run cleanly, leaving no state', async (t) => {
  const addon = path.join(tmp, 'no-such-addon.node');
  const root = path.join(tmp, 'no-addon-root');
  // a process of its own: this one has loaded the addon already. The claim of the container's directory
  // needs no addon; the first step that does is the container's lock (flock), after which create removes
  // the claimed directory again, also without the addon.
  const state = path.resolve(__dirname, '..', '..', 'lib', 'runtime', 'state.js');
  const script = `const s = require(${JSON.stringify(state)});
    s.claimId(${JSON.stringify(root)}, { id: 'x' }).then(() => s.lockContainer(${JSON.stringify(root)}, 'x')).then(() => console.log('locked'),
    (e) => s.removeContainerDir(${JSON.stringify(root)}, 'x').then(() => console.log(JSON.stringify([e.message.split('\\n')[0], require('node:fs').existsSync(${JSON.stringify(path.join(root, 'x'))})]))))`;
  const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, BERTH_NATIVE: addon } });
  t.same(JSON.parse(out), [`Cannot find module '${addon}'`, false], 'the error names the addon; the claimed directory is gone');
  const cannotLoad = new Error(`Cannot find module '${addon}'`);
  for (const command of ['create', 'run'] as const) {
    const fake = new FakeSys().failOn('claim', 1, cannotLoad);
    t.equal((await refusal(command, { mirrors: 'addon', message: '' }, fake)).line, `berth: Cannot find module '${addon}'`, `${command} fails with it`);
    t.same(fake.leftovers(), [], `${command}: nothing left`);
  }
});

t.test('runtime-cli: the lifecycle\'s refusals by state', async (t) => {
  const fake = new FakeSys();
  const id = 'cli1';
  await createStored({ id, root: ROOT, bundle: bundleDir(['/bin/sleep', '1000']) }, fake);
  await start(id, { root: ROOT }, fake);
  await t.rejects(start(id, { root: ROOT }, fake), { message: 'cannot start an already running container' }, 'state transitions: start of a running container');
  await t.rejects(del(id, { root: ROOT }, fake), { message: `cannot delete container ${id} that is not stopped: running` }, 'exec: delete of a running container');
  const pid = (await stored(id, { root: ROOT }, fake)).pid;
  fake.exit(pid, 137);
  await t.rejects(kill(id, 9, { root: ROOT }, fake), { message: 'container not running' }, 'state transitions: kill of a stopped container');
  await t.rejects(exec({ id, root: ROOT, process: baseSpec(['/bin/true']).process! }, fake), { message: 'cannot exec in a stopped container' });
  await del(id, { root: ROOT }, fake);
  await t.rejects(stored(id, { root: ROOT }, fake), { message: `container "${id}" does not exist` }, 'state transitions: state of a deleted container');
  t.same(fake.leftovers(), []);
});

t.test('every refusal of runtime-errors and security-config has a row here', async (t) => {
  const source = (name: string) => fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'test', 'privileged', `${name}.test.ts`), 'utf8');
  const quoted = /'((?:[^'\\]|\\.)*)'/.source;
  const unquote = (s: string) => s.replace(/\\(.)/g, '$1');
  const mirrored = new Set([...RUNTIME_ERRORS, ...SECURITY_CONFIG].map((r) => r.mirrors));
  const own = fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'test', 'unit', 'runtime-refusals.test.ts'), 'utf8');
  const titles = new Set([...own.matchAll(new RegExp(`t\\.test\\(${quoted}`, 'g'))].map((m) => unquote(m[1])));

  const errors = source('runtime-errors');
  const caseNames = [...errors.matchAll(new RegExp(`\\{ name: ${quoted}`, 'g'))].map((m) => unquote(m[1]));
  t.ok(caseNames.length >= 15, `${caseNames.length} cases in runtime-errors`);
  for (const name of caseNames) t.ok(mirrored.has(`runtime-errors: ${name}`), `runtime-errors case "${name}" has a row`);
  const tests = [...errors.matchAll(new RegExp(`t\\.test\\(${quoted}`, 'g'))].map((m) => unquote(m[1]));
  for (const name of tests) t.ok(titles.has(`runtime-errors: ${name}`), `runtime-errors test "${name}" has a test here`);

  const security = source('security-config');
  // each case from its "{ name:" to the next: the refused ones say "refused: /"
  const refused = security.split(/(?=\{ name: ')/).slice(1).filter((b) => /\brefused: \//.test(b)).map((b) => unquote(new RegExp(`^\\{ name: ${quoted}`).exec(b)![1]));
  t.ok(refused.length >= 20, `${refused.length} refusals in security-config`);
  for (const name of refused) t.ok(mirrored.has(`security-config: ${name}`), `security-config refusal "${name}" has a row`);
});
