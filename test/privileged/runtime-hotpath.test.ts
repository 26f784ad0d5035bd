// The library's fast path (run() from one Node process, many at once) keeps every container apart and
// applies every limit: ids, state, cgroups and mount namespaces are never shared, cgroup limits and seccomp
// hold on each of many back-to-back containers, and nothing is left behind.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { list, run, state, stored } from '../../lib/runtime/container';
import { native } from '../../lib/sys/native';
import { makeBundle, uniqueId, type Bundle } from '../helpers/bundle';

/** Every cgroup directory on the host whose name starts with `prefix` (none may survive a test). */
function cgroupsNamed(prefix: string): string[] {
  return execFileSync('find', ['/sys/fs/cgroup', '-name', `${prefix}*`], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

function hostMountsUnder(dir: string): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dir));
}

/** A FIFO opened read-write: the container reads its stdin from it, the test writes "go" when it has looked. */
function gate(file: string): { fd: number; open(): void } {
  native().mknod(file, 0o010000 | 0o600, 0, 0);
  const fd = fs.openSync(file, fs.constants.O_RDWR); // O_RDWR: neither side blocks on open
  return { fd, open: () => fs.writeFileSync(file, 'go\n') };
}

interface Outcome { id: string; code: number; out: string; pid: number; observed: string }

/** Runs one container through the library with its own stdout file and stdin gate; `look` runs while it waits. */
async function runGated(b: Bundle, id: string, look: (id: string, pid: number) => Promise<string>): Promise<Outcome> {
  const outFile = path.join(b.dir, `${id}.out`);
  const out = fs.openSync(outFile, 'w');
  const g = gate(path.join(b.dir, `${id}.gate`));
  let pid = 0;
  let looking: Promise<string> = Promise.resolve('');
  try {
    const code = await run({
      id, bundle: b.dir, root: b.root, stdio: [g.fd, out, out],
      onStarted: (p) => {
        pid = p;
        looking = look(id, p).finally(() => g.open());
      },
    });
    return { id, code, out: fs.readFileSync(outFile, 'utf8'), pid, observed: await looking };
  } finally {
    fs.closeSync(out);
    fs.closeSync(g.fd);
  }
}

t.test('100 containers started at once share nothing and leave nothing behind', async (t) => {
  const b = makeBundle(['/bin/sh', '-c', 'cat /proc/self/cgroup; echo "mnt=$(readlink /proc/self/ns/mnt)"; read x']);
  t.teardown(() => b.cleanup());
  const prefix = uniqueId('hot');
  const ids = Array.from({ length: 100 }, (_, i) => `${prefix}-${i}`);
  // while each one waits on its gate: the state store knows it as running with its own pid, and its cgroup exists
  const look = async (id: string, pid: number): Promise<string> => {
    const s = await state(id, { root: b.root });
    const st = await stored(id, { root: b.root });
    const dirs = Object.values(st.cgroup?.paths ?? {});
    const missing = dirs.filter((d) => !fs.existsSync(d));
    return `${s.status} ${s.pid === pid} ${dirs.length > 0 && missing.length === 0} ${(await list({ root: b.root })).some((c) => c.id === id)}`;
  };
  const results = await Promise.all(ids.map((id) => runGated(b, id, look)));

  const mntNs = new Set<string>();
  const pids = new Set<number>();
  for (const r of results) {
    t.equal(r.code, 0, `${r.id} exited 0: ${r.out}`);
    t.equal(r.observed, 'running true true true', `${r.id} was running, with its own pid, cgroup and list entry while it ran`);
    // every hierarchy places it in a cgroup named after itself, and only itself
    const cgroupLines = r.out.split('\n').filter((l) => /^\d+:/.test(l) && !l.includes('name=systemd'));
    t.ok(cgroupLines.length >= 8, `${r.id} lists its cgroups`);
    t.ok(cgroupLines.every((l) => l.endsWith(`/berth/${r.id}`)), `${r.id} sits in its own cgroups:\n${cgroupLines.join('\n')}`);
    mntNs.add(/mnt=(.*)/.exec(r.out)?.[1] ?? '');
    pids.add(r.pid);
  }
  t.equal(mntNs.size, 100, 'every container had its own mount namespace');
  t.notOk(mntNs.has(''), 'every mount namespace was read');
  t.equal(pids.size, 100, 'every container had its own pid');
  t.same(fs.existsSync(b.root) ? fs.readdirSync(b.root) : [], [], 'no state directory is left');
  t.same(cgroupsNamed(prefix), [], 'no cgroup named after a container is left');
  t.same(hostMountsUnder(b.dir), [], 'nothing is mounted on the host from the bundle');
});

t.test('50 back-to-back containers each get the memory limit, the pids limit and the seccomp rule', async (t) => {
  const script = [
    'echo "mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"',
    'echo "pids=$(cat /sys/fs/cgroup/pids/pids.max)"',
    'if mkdir /tmp/probe 2>/dev/null; then echo mkdir=allowed; else echo mkdir=denied; fi',
    'grep -E ":(memory|pids):" /proc/self/cgroup',
  ].join('; ');
  const b = makeBundle(['/bin/sh', '-c', script]);
  t.teardown(() => b.cleanup());
  const limited = () => {
    b.spec.linux!.resources = { ...b.spec.linux!.resources, memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 16 } };
    b.spec.linux!.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    };
    b.write();
  };
  const prefix = uniqueId('lim');
  // the host side of the same limits, read while the container waits on its gate
  const look = async (id: string): Promise<string> => {
    const paths = (await stored(id, { root: b.root })).cgroup!.paths;
    return `${fs.readFileSync(path.join(paths.memory, 'memory.limit_in_bytes'), 'utf8').trim()} ${fs.readFileSync(path.join(paths.pids, 'pids.max'), 'utf8').trim()}`;
  };
  const gatedScript = `${script}; read x`;
  b.spec.process!.args = ['/bin/sh', '-c', gatedScript];

  // control: the same bundle without limits shows what a missing limit or rule would look like
  b.write();
  const control = await runGated(b, `${prefix}-control`, async () => '');
  t.match(control.out, /mkdir=allowed/, 'without the rule, mkdir works');
  t.notMatch(control.out, /mem=67108864\b/, 'without the limit, memory is not 64 MiB');
  t.match(control.out, /pids=max/, 'without the limit, pids.max is max');

  limited();
  for (let i = 0; i < 50; i++) {
    const id = `${prefix}-${i}`;
    const r = await runGated(b, id, look);
    t.equal(r.code, 0, `${id} exited 0`);
    t.match(r.out, /^mem=67108864$/m, `${id}: memory.limit_in_bytes is 64 MiB inside`);
    t.match(r.out, /^pids=16$/m, `${id}: pids.max is 16 inside`);
    t.match(r.out, /^mkdir=denied$/m, `${id}: seccomp denies mkdir`);
    t.match(r.out, new RegExp(`:memory:.*/berth/${id}$`, 'm'), `${id}: its process is in the limited memory cgroup`);
    t.match(r.out, new RegExp(`:pids:.*/berth/${id}$`, 'm'), `${id}: its process is in the limited pids cgroup`);
    t.equal(r.observed, '67108864 16', `${id}: the host sees the same limits`);
  }
  t.same(fs.existsSync(b.root) ? fs.readdirSync(b.root) : [], [], 'no state directory is left');
  t.same(cgroupsNamed(prefix), [], 'no cgroup named after a container is left');
});

t.test('the launch leaves nothing in the calling process: its threads and descriptors come back', async (t) => {
  // Each run() clones from a short-lived thread of its own (CLONE_VFORK suspends the cloning thread until
  // exec) that holds a copy of the sync socket; with createContainer hooks the child also maps a GO payload.
  const b = makeBundle(['/bin/true']);
  t.teardown(() => b.cleanup());
  b.spec.hooks = { createContainer: [{ path: '/bin/true' }] };
  b.write();
  const prefix = uniqueId('leak');
  const threads = () => fs.readdirSync('/proc/self/task').length;
  const fds = () => fs.readdirSync('/proc/self/fd').length;
  const devnull = fs.openSync('/dev/null', 'r+');
  t.teardown(() => fs.closeSync(devnull));
  const runMany = async (tag: string, n: number) => {
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < n; i = next++) {
        const code = await run({ id: `${prefix}-${tag}-${i}`, bundle: b.dir, root: b.root, stdio: [devnull, devnull, devnull] });
        t.equal(code, 0, `${tag} ${i} exited 0`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  };
  await runMany('warm', 8); // the addon, libuv's threadpool and the waiter thread exist from here on
  // Counts come down a moment after run() resolves: a launch thread exits after its child, and the lock
  // and socket descriptors close asynchronously. Wait for a count to drop to `want`; a real
  // leak never does (5 s: a loaded CI machine is slow to close them).
  const settle = async (count: () => number, want: number) => {
    for (let i = 0; i < 500 && count() > want; i++) await new Promise((r) => setTimeout(r, 10));
    return count();
  };
  const threadsBefore = await settle(threads, 0);
  const fdsBefore = await settle(fds, 0);
  await runMany('hot', 40);
  t.equal(await settle(threads, threadsBefore), threadsBefore, 'every launch thread has exited');
  t.equal(await settle(fds, fdsBefore), fdsBefore, 'no descriptor is left open');
  t.same(fs.existsSync(b.root) ? fs.readdirSync(b.root) : [], [], 'no state directory is left');
  t.same(cgroupsNamed(prefix), [], 'no cgroup is left');
});
