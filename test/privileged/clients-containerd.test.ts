// containerd (Debian's 1.6) drives berth through its runc shim: `ctr run --runc-binary bin/berth`.
// The whole file runs in a private mount and network namespace, with containerd's state in a temp dir.
import { reexecIsolated } from '../helpers/isolate';
reexecIsolated({ net: true });

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { BERTH } from '../helpers/run';
import { IMAGE, startContainerd, type Containerd } from '../helpers/containerd';
import { cgroupParent, removeCgroupParent } from '../helpers/cgroup-parent';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-containerd-'));
const parent = cgroupParent(`berth-ctr-${process.pid}`);
let containerd: Containerd | undefined;
const ctr: Containerd['ctr'] = (args, timeoutMs) => containerd!.ctr(args, timeoutMs);

const runArgs = (id: string) => ['--runc-binary', BERTH, '--cgroup', `${parent}/${id}`];

t.before(async () => {
  containerd = await startContainerd(dir);
});

t.teardown(async () => {
  await containerd?.stop();
  removeCgroupParent(parent);
  fs.rmSync(dir, { recursive: true, force: true });
});

t.test('ctr run: a container runs through berth and its output and exit code come back', async (t) => {
  const r = await ctr(['run', '--rm', ...runArgs('run1'), IMAGE, 'run1', '/bin/sh', '-c', 'echo hello from berth; cat /proc/1/cmdline | tr "\\0" " "; exit 3']);
  t.equal(r.code, 3, r.stderr);
  t.equal(r.stdout, 'hello from berth\n/bin/sh -c echo hello from berth; cat /proc/1/cmdline | tr "\\0" " "; exit 3 ');
  t.ok(fs.existsSync(path.join('/sys/fs/cgroup/pids', parent)), 'placed below our cgroup');
});

t.test('ctr: detached run, task exec, kill and delete', async (t) => {
  const id = 'svc1';
  const started = await ctr(['run', '-d', ...runArgs(id), IMAGE, id, '/bin/sleep', '1000']);
  t.equal(started.code, 0, started.stderr);
  const tasks = await ctr(['tasks', 'ls']);
  t.match(tasks.stdout, new RegExp(`${id}\\s+\\d+\\s+RUNNING`));
  const ex = await ctr(['tasks', 'exec', '--exec-id', 'e1', id, '/bin/sh', '-c', 'echo exec-ok; cat /proc/1/cmdline | tr "\\0" " "']);
  t.equal(ex.code, 0, ex.stderr);
  t.equal(ex.stdout, 'exec-ok\n/bin/sleep 1000 ');
  const ps = await ctr(['tasks', 'ps', id]);
  t.match(ps.stdout, /PID/);
  t.equal((await ctr(['tasks', 'kill', '-s', 'SIGKILL', id])).code, 0);
  for (let i = 0; i < 100 && !/STOPPED/.test((await ctr(['tasks', 'ls'])).stdout); i++) await new Promise((r) => setTimeout(r, 50));
  t.match((await ctr(['tasks', 'ls'])).stdout, new RegExp(`${id}\\s+\\d+\\s+STOPPED`));
  t.equal((await ctr(['tasks', 'delete', id])).code, 0);
  t.equal((await ctr(['containers', 'delete', id])).code, 0);
  t.notMatch((await ctr(['containers', 'ls', '-q'])).stdout, new RegExp(id));
});

t.test('ctr run -t: a terminal session through the console socket', async (t) => {
  // ctr wants a terminal of its own: script(1) gives it one
  const r = await new Promise<{ code: number; out: string }>((resolve) => {
    const cmd = ['ctr', ...containerd!.args(['run', '-t', '--rm', ...runArgs('tty1'), IMAGE, 'tty1', '/bin/sh', '-c', 'tty; stty size; echo TERM=$TERM'])].map((a) => `'${a}'`).join(' ');
    execFile('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 60_000 }, (err, stdout) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout });
    });
  });
  t.equal(r.code, 0, r.out);
  t.match(r.out, /\/dev\/pts\/\d+/, 'stdin is a pty inside the container');
  t.match(r.out, /TERM=xterm/);
});
