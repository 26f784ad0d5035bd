// create's rollback and delete's cleanup, step by step, on the recording fake of the kernel seam
// (test/helpers/fake-sys.ts): no root, no kernel.
import t from 'tap';
import { createStored, del, exec, run, type CreateOptions } from '../../lib/runtime/lifecycle';
import { defaultSpec } from '../../lib/runtime/spec/default';
import type { Spec } from '../../lib/runtime/spec/types';
import { FakeSys } from '../helpers/fake-sys';

const ROOT = '/fake/run/berth';

function spec(edit: (s: Spec) => void = () => undefined): Spec {
  const s = defaultSpec();
  s.process!.terminal = false;
  s.process!.args = ['/bin/true'];
  edit(s);
  return s;
}

/** Creates that between them take every step: an image root, networks, hooks, a fifo, a pid file, a rootfs bind. */
const SCENARIOS: Record<string, CreateOptions> = {
  'create --image --net with hooks and a pid file': {
    id: 'c1', root: ROOT, bundle: '/fake/bundle', pidFile: '/fake/c1.pid', consoleSocket: '/fake/console.sock',
    spec: spec((s) => { s.hooks = { prestart: [{ path: '/bin/true' }], createRuntime: [{ path: '/bin/true' }] }; }),
    image: { dataRoot: '/fake/data', name: 'busybox' }, net: { networks: ['net-a', 'net-b'] },
  },
  'run from a bundle with a poststart hook': {
    id: 'c2', root: ROOT, bundle: '/fake/bundle', startNow: true,
    spec: spec((s) => { s.hooks = { poststart: [{ path: '/bin/true' }] }; }),
  },
  // its mounts are made below a bind of the rootfs in our own mount namespace, which must go too
  'create without a mount namespace': {
    id: 'c3', root: ROOT, bundle: '/fake/bundle',
    spec: spec((s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount'); s.linux!.maskedPaths = []; s.linux!.readonlyPaths = []; }),
  },
};

/** How each forward step is taken back; the directory (claim) goes last. */
const INVERSE: Record<string, string> = {
  claim: 'removeContainerDir', prepareRootfs: 'releaseRootfs', 'cgroups.create': 'cgroups.destroy', launch: 'killLaunched',
  attachNetworks: 'detachNetworks',
};
const UNDO_OPS = new Set(Object.values(INVERSE));

/** Every (op, nth) a successful create records: each is made to fail, or to crash, in turn. */
async function trace(opts: CreateOptions): Promise<{ op: string; nth: number }[]> {
  const fake = new FakeSys();
  await createStored(opts, fake);
  const seen = new Map<string, number>();
  return fake.calls.map((c) => {
    const nth = (seen.get(c.op) ?? 0) + 1;
    seen.set(c.op, nth);
    return { op: c.op, nth };
  });
}

for (const [name, opts] of Object.entries(SCENARIOS)) {
  t.test(`${name}: a failure at each step undoes the steps before it, newest first, and leaves nothing`, async (t) => {
    const steps = await trace(opts);
    t.ok(steps.length >= 8, `${steps.length} steps: ${steps.map((s) => s.op).join(", ")}`);
    for (const step of steps) {
      const fake = new FakeSys().failOn(step.op, step.nth);
      await t.rejects(createStored(opts, fake), { message: `injected failure: ${step.op}` }, `${step.op} #${step.nth} fails the create`);
      const ops = fake.calls.map((c) => c.op);
      const failedAt = fake.calls.findIndex((c, i) => c.op === step.op && ops.slice(0, i + 1).filter((o) => o === step.op).length === step.nth);
      // forward steps that took effect (a failed cgroups.create is undone too: destroy is idempotent and
      // creating may have failed half-way)
      const done = fake.calls.filter((c, i) => INVERSE[c.op] && (i !== failedAt || c.op === 'cgroups.create')).map((c) => INVERSE[c.op]);
      const undone = ops.filter((o) => UNDO_OPS.has(o));
      t.same(undone, [...done].reverse(), `${step.op} #${step.nth}: undo in reverse order`);
      t.same(fake.leftovers(), [], `${step.op} #${step.nth}: nothing left`);
    }
  });

  t.test(`${name}: killed at each step, delete --force returns to nothing`, async (t) => {
    const steps = await trace(opts);
    for (const step of steps) {
      const fake = new FakeSys().crashOn(step.op, step.nth);
      void createStored(opts, fake).catch(() => undefined); // never settles: the process is gone
      for (let i = 0; i < 50 && !fake.hasCrashed; i++) await new Promise((r) => setImmediate(r));
      t.ok(fake.hasCrashed, `killed at ${step.op} #${step.nth}`);
      fake.restart();
      await del(opts.id, { root: ROOT, force: true }, fake);
      t.same(fake.leftovers(), [], `killed at ${step.op} #${step.nth}: delete --force left nothing`);
    }
  });
}

t.test('delete --force of a created container kills it and removes every part, the directory last', async (t) => {
  const fake = new FakeSys();
  const opts = SCENARIOS['create --image --net with hooks and a pid file'];
  const st = await createStored(opts, fake);
  t.ok(fake.processes.has(st.pid));
  const from = fake.calls.length;
  await del('c1', { root: ROOT, force: true }, fake);
  t.same(fake.opsSince(from).filter((o) => !['startTime'].includes(o)), [
    'lock', 'readState', 'status', 'cgroups.killAll', 'signal', 'detachNetworks', 'cgroups.destroy', 'releaseRootfs', 'removeContainerDir', 'runHooks',
  ]);
  t.same(fake.leftovers(), []);
});

t.test('delete of a container without a mount namespace: its rootfs bind goes after its cgroups, before its directory', async (t) => {
  const fake = new FakeSys();
  const opts = SCENARIOS['create without a mount namespace'];
  const st = await createStored(opts, fake);
  t.same([...fake.rootfsBinds], [st.rootfs], 'the bootstrap bound the rootfs in our mount namespace');
  fake.exit(st.pid);
  const from = fake.calls.length;
  await del('c3', { root: ROOT }, fake);
  t.same(fake.opsSince(from), ['lock', 'readState', 'status', 'cgroups.destroy', 'releaseRootfsBind', 'removeContainerDir', 'runHooks']);
  t.same(fake.calls.find((c) => c.op === 'releaseRootfsBind')!.args, [st.rootfs]);
  t.same(fake.leftovers(), []);
});

t.test('a rootfs bind that cannot be released keeps the state for a retry', async (t) => {
  const fake = new FakeSys();
  const st = await createStored(SCENARIOS['create without a mount namespace'], fake);
  fake.failOn('releaseRootfsBind');
  await t.rejects(del('c3', { root: ROOT, force: true }, fake), { message: /^container c3: could not remove its rootfs bind \(injected failure: releaseRootfsBind\)$/ });
  t.ok(fake.dirs.has(`${ROOT}/c3`) && fake.rootfsBinds.has(st.rootfs), 'the directory and the bind stay');
  t.same(fake.cgroupDirs.size, 0, 'the cgroups went');
  await del('c3', { root: ROOT, force: true }, fake);
  t.same(fake.leftovers(), []);
});

t.test('the intent records the rootfs bind: a create killed before its state is written is still undone', async (t) => {
  const fake = new FakeSys().crashOn('writeState');
  void createStored(SCENARIOS['create without a mount namespace'], fake);
  for (let i = 0; i < 50 && !fake.hasCrashed; i++) await new Promise((r) => setImmediate(r));
  t.ok(fake.hasCrashed && fake.rootfsBinds.size === 1 && !fake.states.size, 'killed with the bind made and no state');
  t.equal(fake.intents.get(`${ROOT}/c3`)!.rootfsBind, '/fake/bundle/rootfs');
  fake.restart();
  await del('c3', { root: ROOT, force: true }, fake);
  t.same(fake.leftovers(), []);
  const withMountns = new FakeSys();
  await createStored(SCENARIOS['run from a bundle with a poststart hook'], withMountns);
  t.equal(withMountns.intents.get(`${ROOT}/c2`)!.rootfsBind, undefined, 'a container with a mount namespace has no bind of ours');
});

t.test('HOME comes from the container\'s passwd through the Sys: create reads the rootfs, exec /proc/<pid>/root', async (t) => {
  const fake = new FakeSys();
  fake.filesInRoot.set('/fake/bundle/rootfs:/etc/passwd', 'root:x:0:0::/root-home:/bin/sh\n');
  const st = await createStored({ ...SCENARIOS['run from a bundle with a poststart hook'], startNow: false }, fake);
  const planOf = (n: number) => fake.calls.filter((c) => c.op === 'launch')[n].args[0] as import('../../lib/runtime/launch-plan').LaunchPlan;
  t.equal(planOf(0).env.at(-1), 'HOME=/root-home');
  fake.filesInRoot.set(`/proc/${st.pid}/root:/etc/passwd`, 'root:x:0:0::/exec-home:/bin/sh\n');
  await exec({ id: 'c2', root: ROOT, process: { ...spec().process!, env: [] } }, fake);
  t.same(planOf(1).env, ['HOME=/exec-home']);
  t.equal(planOf(1).join.find((j) => j.path.endsWith('/mnt'))?.path, `/proc/${st.pid}/ns/mnt`);
});

t.test('delete says it succeeded only when it did: a cgroup it cannot remove keeps the state for a retry', async (t) => {
  const fake = new FakeSys();
  const opts = SCENARIOS['create --image --net with hooks and a pid file'];
  await createStored(opts, fake);
  fake.failOn('cgroups.destroy');
  await t.rejects(del('c1', { root: ROOT, force: true }, fake), { message: /^container c1: could not remove its cgroups \(injected failure: cgroups.destroy\)$/ });
  t.ok(fake.dirs.has(`${ROOT}/c1`), 'the state directory stays');
  t.same(fake.imageRoots.size, 0, 'what could be removed was');
  await del('c1', { root: ROOT, force: true }, fake);
  t.same(fake.leftovers(), []);
});

t.test('delete of an id that does not exist: runc\'s error, and nothing with --force (as runc 1.1)', async (t) => {
  const fake = new FakeSys();
  await t.rejects(del('nope', { root: ROOT }, fake), { message: 'container "nope" does not exist' });
  await t.resolves(del('nope', { root: ROOT, force: true }, fake));
});

t.test('a directory without state is not deleted without --force', async (t) => {
  const fake = new FakeSys().crashOn('cgroups.create');
  void createStored(SCENARIOS['run from a bundle with a poststart hook'], fake);
  for (let i = 0; i < 50 && !fake.hasCrashed; i++) await new Promise((r) => setImmediate(r));
  fake.restart();
  await t.rejects(del('c2', { root: ROOT }, fake), { message: 'container "c2" does not exist' });
  await del('c2', { root: ROOT, force: true }, fake);
  t.same(fake.leftovers(), []);
});

t.test('run: create, wait for the exit, delete', async (t) => {
  const fake = new FakeSys();
  const opts = SCENARIOS['run from a bundle with a poststart hook'];
  const code = run({ ...opts, onStarted: (pid) => setImmediate(() => fake.exit(pid, 3)) }, fake);
  t.equal(await code, 3);
  t.same(fake.leftovers(), []);
});
