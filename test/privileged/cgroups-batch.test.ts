// The batch executor against real cgroup files (below our own cgroup), and what createCgroup does with it:
// a v1 cpuset made and filled in one batch takes tasks, cgroup.procs refusals stop a batch with their errno,
// and a failed create removes exactly the directories it made.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { createCgroup } from '../../lib/cgroups';
import { Batch, errnoName, textOf } from '../../lib/cgroups/batch';
import { hierarchies } from '../../lib/cgroups/hierarchy';
import { PARENT } from './cgroups-fixture';

const h = hierarchies();
/** Our own cgroup in a hierarchy: tests only make directories below it. */
const own = (ctrl: string): string => (ctrl === 'unified' ? path.join(h.unified!, h.own[''] ?? '/') : path.join(h.v1[ctrl], h.own[ctrl] ?? '/'));

/** A child that waits for a line, and its exit. */
function waiting(): { pid: number; done: () => Promise<unknown> } {
  const child = spawn('/bin/sh', ['-c', 'read _go'], { stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = new Promise((r) => child.on('exit', r));
  return { pid: child.pid as number, done: () => (child.stdin?.end('\n'), exited) };
}

t.test('v1 cpuset: made and filled in one batch, the new cgroup takes a task', { skip: h.v1.cpuset ? false : 'no v1 cpuset' }, async (t) => {
  const top = path.join(own('cpuset'), `${PARENT}-batch`);
  const leaf = path.join(top, 'leaf');
  t.teardown(() => {
    for (const d of [leaf, top]) if (fs.existsSync(d)) fs.rmdirSync(d);
  });
  const p = waiting();
  t.teardown(p.done);
  const b = new Batch();
  b.mkdir(top);
  b.mkdir(leaf);
  for (const d of [top, leaf]) {
    b.fill(d, 'cpuset.cpus');
    b.fill(d, 'cpuset.mems');
  }
  b.write(leaf, 'cgroup.procs', String(p.pid)); // ENOSPC unless both levels were filled first
  const cpus = b.read(leaf, 'cpuset.cpus');
  const out = await b.run();
  t.same(out.results.slice(0, 6), [0, 0, 1, 1, 1, 1], 'both made, both filled from their parent');
  t.equal(out.failed, -1);
  t.equal(textOf(out, cpus), fs.readFileSync(path.join(own('cpuset'), 'cpuset.cpus'), 'utf8'));
  t.match(fs.readFileSync(`/proc/${p.pid}/cgroup`, 'utf8'), new RegExp(`cpuset:.*/${PARENT}-batch/leaf$`, 'm'), 'the task joined');
  await p.done();
  // again on the made tree: EEXIST for both, and filled files are left alone
  const again = new Batch();
  again.mkdir(top);
  again.mkdir(leaf);
  again.fill(leaf, 'cpuset.cpus');
  t.same((await again.run()).results, [-17, -17, 0]);
});

t.test('cgroup.procs refusals: the batch stops at the first with its index and errno', async (t) => {
  const ctrl = h.v1.pids ? 'pids' : 'unified';
  const dir = path.join(own(ctrl), `${PARENT}-procs`);
  fs.mkdirSync(dir);
  t.teardown(() => fs.existsSync(dir) && fs.rmdirSync(dir));
  const b = new Batch();
  b.read(dir, 'cgroup.procs');
  b.write(dir, 'cgroup.procs', 'not-a-pid'); // EINVAL from the kernel's parser
  b.write(dir, 'cgroup.procs', String(process.pid));
  const out = await b.run();
  t.equal(out.failed, 1);
  t.equal(errnoName(-out.errno), 'EINVAL');
  t.same(out.results, ['', -out.errno], 'nothing ran after it: we never joined');
  t.notMatch(fs.readFileSync('/proc/self/cgroup', 'utf8'), `${PARENT}-procs`);
  const gone = new Batch();
  gone.write(dir, 'cgroup.procs', '2147483647', { nofail: true }); // no such process
  gone.rmdir(dir);
  const after = await gone.run();
  t.equal(errnoName(after.results[0]), 'ESRCH');
  t.equal(after.results[1], 0, 'a nofail error does not stop the batch');
});

t.test('a failed create removes the directories it made and keeps the ones it found', async (t) => {
  // the parent exists before the create (another container's, say): only the leaf is this create's
  const dirs = Object.entries(h.v1).map(([c]) => own(c)).concat(h.unified ? [own('unified')] : []);
  const parents = [...new Set(dirs)].map((d) => path.join(d, `${PARENT}-kept`));
  for (const p of parents) fs.mkdirSync(p);
  t.teardown(() => {
    for (const p of parents) if (fs.existsSync(p)) fs.rmdirSync(p);
  });
  await t.rejects(createCgroup({ containerId: 'x', cgroupsPath: `${PARENT}-kept/leaf`, resources: { pids: { limit: 4 }, cpu: { cpus: '4095' } } }),
    { name: 'ConfigError', field: 'linux.resources.cpu.cpus' });
  t.same(parents.filter((p) => !fs.existsSync(p)), [], 'every parent it found is still there');
  t.same(parents.map((p) => path.join(p, 'leaf')).filter((p) => fs.existsSync(p)), [], 'every leaf it made is gone');
});
