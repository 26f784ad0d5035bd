// The security properties that are not optional: no descriptor leaks, mounts resolved inside the rootfs
// even through hostile symlinks, /proc only for procfs, and only preserved fds passed on.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { BERTH, berth, bundle, runIn } from '../helpers/run';
import { makeRootfs, uniqueId } from '../helpers/bundle';

t.test('no descriptor of the runtime reaches the container', async (t) => {
  // open some descriptors in the runtime process (this one) first: a directory, a file, a socket pair
  const dir = fs.openSync(os.tmpdir(), 'r');
  const file = fs.openSync(__filename, 'r');
  t.teardown(() => { fs.closeSync(dir); fs.closeSync(file); });
  const r = await runIn(['/bin/sh', '-c', 'ls /proc/1/fd; true']); // sh stays pid 1 and opens nothing
  t.equal(r.code, 0, r.stderr);
  t.same(r.stdout.trim().split('\n').map(Number).sort(), [0, 1, 2], 'only 0, 1 and 2');
});

t.test('a cwd through /proc/self/fd cannot reach a leaked host directory', async (t) => {
  for (const fd of [3, 4, 5, 6, 7, 8]) {
    const r = await runIn(['/bin/pwd'], (s) => { s.process!.cwd = `/proc/self/fd/${fd}`; }).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
    t.not(r.code, 0, `cwd /proc/self/fd/${fd} refused (${r.stderr.trim()})`);
  }
});

t.test('--preserve-fds passes exactly the given extra descriptors', async (t) => {
  const b = bundle(['/bin/sh', '-c', 'ls /proc/self/fd | sort -n | tr "\\n" " "; echo; cat <&3']);
  t.teardown(() => b.cleanup());
  const extra = path.join(b.dir, 'extra');
  fs.writeFileSync(extra, 'through fd 3\n');
  const out = path.join(b.dir, 'out');
  const code = await new Promise<number | null>((resolve) => {
    const o = fs.openSync(out, 'w');
    const child = spawn(BERTH, ['--root', b.root, 'run', '--preserve-fds', '1', '--bundle', b.dir, uniqueId('fds')], {
      stdio: ['ignore', o, 'inherit', fs.openSync(extra, 'r'), fs.openSync(extra, 'r')],
    });
    child.on('exit', (c) => { fs.closeSync(o); resolve(c); });
  });
  t.equal(code, 0);
  const [fds, content] = fs.readFileSync(out, 'utf8').split('\n');
  t.equal(fds.trim(), '0 1 2 3 4', 'fd 3 preserved (4 is ls\'s own directory), fd 4 of the caller not passed');
  t.equal(content, 'through fd 3');
});

t.test('a symlink in the rootfs cannot send a mount outside it (CVE-2021-30465 class)', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-evil-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.chmodSync(root, 0o755);
  makeRootfs(root);
  // absolute and relative escapes: inside the root both must resolve to <rootfs>/hostetc
  fs.symlinkSync('/hostetc', path.join(root, 'abs'));
  fs.symlinkSync('../../../../../../../../hostetc', path.join(root, 'rel'));
  fs.mkdirSync(path.join(root, 'hostetc'));
  const src = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-src-'));
  t.teardown(() => fs.rmSync(src, { recursive: true, force: true }));
  fs.writeFileSync(path.join(src, 'marker'), 'mounted inside\n');
  const r = await runIn(['/bin/sh', '-c', 'cat /hostetc/a/marker /hostetc/b/marker'], (s) => {
    s.root = { path: root };
    s.mounts!.push(
      { destination: '/abs/a', type: 'bind', source: src, options: ['rbind', 'ro'] },
      { destination: '/rel/b', type: 'bind', source: src, options: ['rbind', 'ro'] },
    );
  });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'mounted inside\nmounted inside\n', 'both mounts landed inside the rootfs');
  t.ok(fs.existsSync(path.join(root, 'hostetc', 'a')), 'the mountpoint was created inside the rootfs');
  t.notOk(fs.existsSync('/hostetc'), 'nothing created at the host path');
});

t.test('a device path through a symlink stays inside the rootfs', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-evil-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.chmodSync(root, 0o755);
  makeRootfs(root);
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-outside-'));
  t.teardown(() => fs.rmSync(outside, { recursive: true, force: true }));
  const r = await runIn(['/bin/sh', '-c', 'ls -l /dev/evil/ 2>&1; true'], (s) => {
    s.root = { path: root };
    // /dev is a tmpfs in the container: plant the symlink in a bind-mounted /dev instead
    s.mounts = s.mounts!.filter((m) => !m.destination.startsWith('/dev'));
    s.linux!.devices = [{ type: 'c', path: '/dev/evil/null', major: 1, minor: 3, fileMode: 0o666 }];
  });
  fs.symlinkSync(outside, path.join(root, 'dev', 'evil-later')); // no effect on a finished run; documents intent
  t.equal(r.code, 0, r.stderr);
  t.same(fs.readdirSync(outside), [], 'nothing created outside');
  t.ok(fs.existsSync(path.join(root, 'dev', 'evil', 'null')), 'the device node is inside the rootfs');
});

t.test('/proc receives only a real procfs', async (t) => {
  const b = bundle(['/bin/true'], (s) => { s.mounts![0] = { destination: '/proc', type: 'bind', source: '/tmp', options: ['rbind'] }; });
  t.teardown(() => b.cleanup());
  const r = await berth(['--root', b.root, 'run', '--bundle', b.dir, uniqueId('proc')]);
  t.equal(r.code, 1);
  t.match(r.stderr, /mounts\[0\]: mount \/proc may only receive a procfs mount/);
});
