// podman 4.3 (conmon) drives berth with `--runtime bin/berth`, storage and run state in a temp dir,
// inside a private mount and network namespace.
import { reexecIsolated } from '../helpers/isolate';
reexecIsolated({ net: true });

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { runtimeWrapper } from '../helpers/frontend';
import { writeBusyboxDockerArchive } from '../helpers/busybox-image';
import { cgroupParent, removeCgroupParent } from '../helpers/cgroup-parent';

const IMAGE = 'docker.io/library/busybox:latest';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-podman-'));
const parent = cgroupParent(`berth-podman-${process.pid}`);
const global = ['--root', `${dir}/storage`, '--runroot', `${dir}/run`, '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs',
  '--events-backend', 'none', '--runtime', runtimeWrapper(dir)];
// podman's default rlimits need CAP_SYS_RESOURCE, which this machine lacks (for runc as for berth)
const runFlags = ['--network', 'none', '--cgroup-parent', parent, '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

function podman(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('podman', [...global, ...args], { encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

t.before(async () => {
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  await writeBusyboxDockerArchive(path.join(dir, 'busybox.tar'), IMAGE);
  const loaded = await podman(['load', '-i', path.join(dir, 'busybox.tar')]);
  if (loaded.code !== 0) throw new Error(`podman load: ${loaded.stderr}`);
});

t.teardown(async () => {
  await podman(['rm', '--all', '--force']);
  removeCgroupParent(parent);
  // vfs layers and the run dir live in our private mount namespace's view of /tmp: plain files
  fs.rmSync(dir, { recursive: true, force: true });
});

t.test('podman run --rm busybox echo hi', async (t) => {
  const r = await podman(['run', '--rm', ...runFlags, IMAGE, 'echo', 'hi']);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'hi\n');
});

t.test('podman: exit codes, a detached container, exec, stop and rm', async (t) => {
  t.equal((await podman(['run', '--rm', ...runFlags, IMAGE, 'sh', '-c', 'exit 5'])).code, 5);
  const started = await podman(['run', '-d', '--name', 'svc', ...runFlags, IMAGE, 'sleep', '1000']);
  t.equal(started.code, 0, started.stderr);
  const ex = await podman(['exec', 'svc', 'sh', '-c', 'echo in-exec; cat /proc/1/cmdline | tr "\\0" " "']);
  t.equal(ex.code, 0, ex.stderr);
  t.equal(ex.stdout, 'in-exec\nsleep 1000 ');
  const ps = await podman(['ps', '--format', '{{.Names}} {{.Status}}']);
  t.match(ps.stdout, /^svc Up/m);
  t.equal((await podman(['stop', '-t', '1', 'svc'])).code, 0);
  t.equal((await podman(['rm', 'svc'])).code, 0);
  t.equal((await podman(['ps', '-a', '-q'])).stdout, '');
});
