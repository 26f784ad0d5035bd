// deleteHostLinkByName (native/src/rtnl.c): DEL removes the host end of a veth this way. It resolves once
// the kernel has taken the device out of the namespace; the RCU wait before the kernel frees it is sat out
// by a short-lived child process. It acts in the namespace the process started in, so this test runs in a
// network namespace of its own (reexecIsolated).
import { reexecIsolated } from '../helpers/isolate';
reexecIsolated({ net: true });

import t from 'tap';
import * as fs from 'node:fs';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { createNetns } from '../helpers/netns';
import { deleteHostLinkByName, NetlinkError, withNetns } from '../../lib/cni/net';
import { native } from '../../lib/sys/native';
import { addProcess } from '../../lib/cgroups';
import { testCgroup } from './cgroups-fixture';
import { until } from '../helpers/wait';

// asked of the kernel, not /sys: sysfs shows the namespace it was mounted in
const linkExists = (name: string, netns?: string) =>
  spawnSync('ip', [...(netns ? ['-n', netns] : []), 'link', 'show', name], { stdio: 'ignore' }).status === 0;
/** children of every thread; a thread that exits meanwhile (rtnl.c's reaper, once it has reaped) has none */
const children = (): number[] => fs.readdirSync('/proc/self/task').flatMap((tid) => {
  try {
    return fs.readFileSync(`/proc/self/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
});
const fdCount = (): number => fs.readdirSync('/proc/self/fd').length;
const isZombie = (pid: number): boolean => /^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));

t.test('a veth is gone, both ends, when the call resolves; its name is free at once', async (t) => {
  const ctr = createNetns('dellink');
  t.teardown(() => ctr.remove());
  execFileSync('ip', ['link', 'add', 'vethdel', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ctr.name]);
  execFileSync('ip', ['addr', 'add', '10.123.0.1/24', 'dev', 'vethdel']);
  execFileSync('ip', ['link', 'set', 'vethdel', 'up']);
  t.ok(linkExists('vethdel'), 'the host end exists');
  t.equal(await deleteHostLinkByName('vethnone'), false, 'a link that is not there: false');
  // that the calling thread is not held through the kernel's wait is the next subtest's: it catches the
  // helper still at work after the call resolved (a bound on the call's wall time failed on a loaded machine)
  t.equal(await deleteHostLinkByName('vethdel'), true, 'reported as removed');
  t.notOk(linkExists('vethdel'), 'the host end is gone');
  t.notOk(linkExists('eth0', ctr.name), 'the container end went with it');
  t.equal(execFileSync('ip', ['-4', 'route', 'show', '10.123.0.0/24'], { encoding: 'utf8' }).trim(), '', 'its subnet route went with it');
  execFileSync('ip', ['link', 'add', 'vethdel', 'type', 'bridge']);
  t.ok(linkExists('vethdel'), 'a new device can take the name straight away');
  t.equal(await deleteHostLinkByName('vethdel'), true, 'and that one is removed as well');
  t.equal(await deleteHostLinkByName('vethdel'), false, 'a second removal finds nothing: false, not an error');
});

t.test('it resolves while the kernel is still busy with the request in a helper that holds only its socket and pipe; the helper is reaped', async (t) => {
  const ctr = createNetns('dellink');
  t.teardown(() => ctr.remove());
  const fdsBefore = fdCount();
  // the kernel's RCU wait lasts far longer than the call takes to resolve: the helper is nearly always
  // still there; a few tries make that certain
  let caught: { pid: number; fds: string[] } | undefined;
  for (let i = 0; i < 10 && !caught; i++) {
    execFileSync('ip', ['link', 'add', `vethh${i}`, 'type', 'veth', 'peer', 'name', `eth${i}`, 'netns', ctr.name]);
    const before = new Set(children());
    t.equal(await deleteHostLinkByName(`vethh${i}`), true, `vethh${i} removed`);
    const helper = children().find((p) => !before.has(p));
    if (helper === undefined) continue;
    try {
      const fds = fs.readdirSync(`/proc/${helper}/fd`).map((fd) => fs.readlinkSync(`/proc/${helper}/fd/${fd}`)).sort();
      // a zombie (finished, not yet reaped) lists no descriptors: it is not caught in the act
      if (!isZombie(helper)) caught = { pid: helper, fds };
    } catch { /* it finished between the two looks */ }
  }
  t.ok(caught, 'the call resolved before the helper finished the request');
  t.match(caught?.fds, [/^pipe:/, /^socket:/], `the helper holds a pipe and a socket only: ${JSON.stringify(caught?.fds)}`);
  // the RCU wait stretches on a loaded machine (CI runs netns teardowns alongside): wait for the reaping
  await until('the helper to be reaped', () => !children().includes(caught?.pid ?? -1), 20000).catch(() => undefined);
  t.notOk(children().includes(caught?.pid ?? -1), 'the helper was reaped');
  t.same(children(), [], 'no child left');
  t.equal(fdCount(), fdsBefore, 'no descriptor left open');
});

t.test('it acts in the namespace the process started in, not the one the main thread entered', async (t) => {
  const other = createNetns('dellink');
  t.teardown(() => other.remove());
  execFileSync('ip', ['-n', other.name, 'link', 'add', 'dummyish', 'type', 'bridge']);
  // the main thread inside `other`: the worker is still in this process's own namespace
  const removed = await withNetns(other.path, () => deleteHostLinkByName('dummyish'));
  t.equal(removed, false, 'the link in the other namespace was not seen');
  t.ok(linkExists('dummyish', other.name), 'and it is still there');
});

t.test('a kernel refusal is a NetlinkError naming the errno; a bad name is a TypeError', async (t) => {
  // the loopback device cannot be deleted: it has no rtnl_link_ops
  const err = await deleteHostLinkByName('lo').catch((e: unknown) => e);
  t.type(err, NetlinkError);
  t.match(err, { op: 'delete link lo', code: 'EOPNOTSUPP' }, `errno named: ${(err as Error).message}`);
  t.ok(linkExists('lo'), 'lo is still there');
  t.throws(() => native().rtnlDeleteLink(''), { name: 'TypeError', message: /name must be a device name/ }, 'empty');
  t.throws(() => native().rtnlDeleteLink('a'.repeat(16)), { name: 'TypeError' }, 'longer than 15 characters');
  t.throws(() => native().rtnlDeleteLink(7 as unknown as string), { name: 'TypeError' }, 'not a string');
});

t.test('when no helper can be forked (a pids limit), the calling thread sits out the kernel\'s wait itself', async (t) => {
  const ctr = createNetns('dellink');
  t.teardown(() => ctr.remove());
  execFileSync('ip', ['link', 'add', 'vethpids', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ctr.name]);
  const h = await testCgroup(t, `dellink-${process.pid}`);
  const pidsDir = h.paths.pids ?? h.paths.unified;
  const net = path.resolve(__dirname, '..', '..', 'lib', 'cni', 'net');
  // a first call starts libuv's pool; then the script waits, so its thread count can be made the limit
  const script = `const { deleteHostLinkByName } = require(${JSON.stringify(net)});
    deleteHostLinkByName('vethnone').then(() => {
      process.stdout.write('ready\\n');
      process.stdin.once('data', () => deleteHostLinkByName('vethpids').then((r) => process.stdout.write(JSON.stringify(r) + '\\n'), (e) => process.stdout.write(String(e) + '\\n')));
    });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  const lines: string[] = [];
  const line = () => new Promise<string>((resolve) => {
    const take = () => { if (lines.length) resolve(lines.shift()!); else child.stdout!.once('data', (d: Buffer) => { lines.push(...d.toString().split('\n').filter(Boolean)); take(); }); };
    take();
  });
  t.equal(await line(), 'ready');
  await addProcess(h, child.pid!);
  const tasks = fs.readdirSync(`/proc/${child.pid}/task`).length;
  fs.writeFileSync(path.join(pidsDir, 'pids.max'), String(tasks));
  const refusedBefore = Number(/max (\d+)/.exec(fs.readFileSync(path.join(pidsDir, 'pids.events'), 'utf8'))?.[1] ?? 0);
  child.stdin!.write('go\n');
  t.equal(await line(), 'true', 'reported as removed');
  const refused = Number(/max (\d+)/.exec(fs.readFileSync(path.join(pidsDir, 'pids.events'), 'utf8'))?.[1] ?? 0) - refusedBefore;
  t.ok(refused >= 1, `the helper's fork was refused (${refused} time(s) at pids.max ${tasks})`);
  t.notOk(linkExists('vethpids'), 'the host end is gone');
  t.notOk(linkExists('eth0', ctr.name), 'the container end went with it');
  child.kill('SIGKILL');
});
