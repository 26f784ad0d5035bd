// runc's process defaults, with runc itself as the control on the same bundle: a process.cwd missing from
// the rootfs is created (mkdir -p inside the root, 0755, owned by the container's root), and an env without
// HOME gets the home of the process's uid from the container's /etc/passwd, or "/" (run and exec alike).
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeBundle, uniqueId, type Bundle } from '../helpers/bundle';
import { berth, leftovers, type RunResult } from '../helpers/run';
import { runc, runcPath } from '../helpers/runc';
import type { Spec } from '../../lib/runtime/spec/types';

runcPath();

type Cli = (args: string[]) => Promise<RunResult>;
const RUNTIMES: [name: string, run: Cli][] = [['berth', berth], ['runc', runc]];

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';

function setup(t: Test, args: string[], edit?: (s: Spec) => void): Bundle {
  const b = makeBundle(args);
  fs.chmodSync(b.dir, 0o755);
  fs.writeFileSync(path.join(b.dir, 'rootfs/etc/passwd'), PASSWD);
  b.spec.process!.env = ['PATH=/usr/bin:/bin'];
  edit?.(b.spec);
  b.write();
  t.teardown(() => b.cleanup());
  return b;
}

/** `run` of the bundle under each runtime, with a fresh container id and cgroup each time. */
async function runBoth(t: Test, b: Bundle, before?: () => void): Promise<Record<string, RunResult>> {
  const out: Record<string, RunResult> = {};
  for (const [name, cli] of RUNTIMES) {
    before?.();
    const id = uniqueId(`rtd-${name}`);
    b.spec.linux!.cgroupsPath = id;
    b.write();
    out[name] = await cli(['--root', path.join(b.dir, `state-${name}`), 'run', '--bundle', b.dir, id]);
    t.equal(out[name].code, 0, `${name} run: ${out[name].stderr.trim()}`);
    t.same(leftovers(path.join(b.dir, `state-${name}`), id), [], `${name}: nothing left after run`);
  }
  return out;
}

t.test('a missing process.cwd is created as runc creates it', async (t) => {
  const b = setup(t, ['/bin/sh', '-c', 'pwd; stat -c "%u:%g %a %n" /x /x/y; touch here']);
  b.spec.process!.cwd = '/x/y';
  const x = path.join(b.dir, 'rootfs/x');
  const r = await runBoth(t, b, () => fs.rmSync(x, { recursive: true, force: true }));
  t.equal(r.berth.stdout, r.runc.stdout, 'same pwd, owner and mode as runc');
  t.equal(r.berth.stdout, `/x/y\n0:0 ${(0o755 & ~process.umask()).toString(8)} /x\n0:0 ${(0o755 & ~process.umask()).toString(8)} /x/y\n`);
  t.ok(fs.existsSync(path.join(x, 'y/here')), 'the process ran there');
});

t.test('a cwd through a symlink that points out of the root is created inside the root', async (t) => {
  const host = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-rtd-host-'));
  t.teardown(() => fs.rmSync(host, { recursive: true, force: true }));
  const b = setup(t, ['/bin/pwd']);
  const rootfs = path.join(b.dir, 'rootfs');
  const inside = path.join(rootfs, host); // the same path inside the root: where the links must land
  fs.mkdirSync(inside, { recursive: true });
  fs.symlinkSync(host, path.join(rootfs, 'abs'));
  fs.symlinkSync(`../../../../../../..${host}`, path.join(rootfs, 'rel'));
  for (const link of ['abs', 'rel']) {
    b.spec.process!.cwd = `/${link}/sub`;
    const r = await runBoth(t, b, () => fs.rmSync(path.join(inside, 'sub'), { recursive: true, force: true }));
    t.equal(r.berth.stdout, r.runc.stdout, `${link}: same as runc (${r.berth.stdout.trim()})`);
    t.same(fs.readdirSync(host), [], `${link}: nothing created in the host directory the link names`);
    t.ok(fs.statSync(path.join(inside, 'sub')).isDirectory(), `${link}: created at the link's target inside the root`);
  }
});

t.test('a cwd through a leaked descriptor is still refused, and nothing is created', async (t) => {
  const b = setup(t, ['/bin/pwd']);
  fs.symlinkSync('/proc/self/fd/5', path.join(b.dir, 'rootfs/fd5'));
  const cwds = [3, 4, 5, 6, 7].map((fd) => `/proc/self/fd/${fd}/berth-rtd-x`).concat(['/fd5/berth-rtd-x']);
  for (const cwd of cwds) {
    b.spec.process!.cwd = cwd;
    b.write();
    const id = uniqueId('rtd-fd');
    const r = await berth(['--root', b.root, 'run', '--bundle', b.dir, id]);
    t.equal(r.code, 1, `cwd ${cwd} refused: ${r.stderr.trim()}`);
    t.match(r.stderr, /process\.cwd: /);
    t.same(leftovers(b.root, id), []);
  }
});

t.test('HOME from the container\'s /etc/passwd for the process uid, as runc sets it', async (t) => {
  const cases: { name: string; uid: number; env?: string[]; home: string }[] = [
    { name: 'root', uid: 0, home: '/root' },
    { name: 'a uid in passwd', uid: 1000, home: '/home/app' },
    { name: 'a uid not in passwd', uid: 4242, home: '/' },
    { name: 'HOME given', uid: 1000, env: ['PATH=/bin', 'HOME=/given'], home: '/given' },
    { name: 'HOME given empty', uid: 1000, env: ['PATH=/bin', 'HOME='], home: '/home/app' },
  ];
  for (const c of cases) {
    const b = setup(t, ['/bin/sh', '-c', 'echo "HOME=$HOME"; env | grep -c "^HOME="'], (s) => {
      s.process!.user = { uid: c.uid, gid: c.uid };
      if (c.env) s.process!.env = c.env;
    });
    const r = await runBoth(t, b);
    t.equal(r.berth.stdout, r.runc.stdout, `${c.name}: same as runc`);
    t.equal(r.berth.stdout, `HOME=${c.home}\n1\n`, `${c.name}: HOME=${c.home}, once`);
  }
});

t.test('a passwd bound over the image\'s (podman does) is the one read', async (t) => {
  const b = setup(t, ['/bin/sh', '-c', 'echo "HOME=$HOME"'], (s) => { s.process!.user = { uid: 1000, gid: 1000 }; });
  const own = path.join(b.dir, 'passwd');
  fs.writeFileSync(own, 'app:x:1000:1000::/from/the/mount:/bin/sh\n');
  b.spec.mounts!.push({ destination: '/etc/passwd', type: 'bind', source: own, options: ['rbind', 'ro'] });
  const r = await runBoth(t, b);
  t.equal(r.berth.stdout, r.runc.stdout, 'same as runc');
  t.equal(r.berth.stdout, 'HOME=/from/the/mount\n');
});

t.test('a passwd that links out of the root is read inside it, never the host\'s', async (t) => {
  const host = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-rtd-passwd-'));
  t.teardown(() => fs.rmSync(host, { recursive: true, force: true }));
  const b = setup(t, ['/bin/sh', '-c', 'echo "HOME=$HOME"']);
  const rootfs = path.join(b.dir, 'rootfs');
  // the same path on the host and inside the root: a read that follows the link on the host gets the first
  fs.writeFileSync(path.join(host, 'passwd'), 'root:x:0:0::/host-leak:/bin/sh\n');
  fs.mkdirSync(path.join(rootfs, host), { recursive: true });
  fs.writeFileSync(path.join(rootfs, host, 'passwd'), 'root:x:0:0::/image-root:/bin/sh\n');
  fs.rmSync(path.join(rootfs, 'etc/passwd'));
  fs.symlinkSync(`/../../../../../../..${host}/passwd`, path.join(rootfs, 'etc/passwd'));
  const r = await runBoth(t, b);
  t.equal(r.berth.stdout, r.runc.stdout, 'same as runc');
  t.equal(r.berth.stdout, 'HOME=/image-root\n');
});

t.test('exec: HOME for the exec\'d process\'s own user, runc beside berth', async (t) => {
  const b = setup(t, ['/bin/sleep', '1000']);
  b.spec.process!.cwd = '/made/for/exec';
  const results: Record<string, string[]> = {};
  for (const [name, cli] of RUNTIMES) {
    fs.rmSync(path.join(b.dir, 'rootfs/made'), { recursive: true, force: true });
    const id = uniqueId(`rtd-exec-${name}`);
    const g = ['--root', path.join(b.dir, `state-${name}`)];
    b.spec.linux!.cgroupsPath = id;
    b.write();
    t.teardown(() => cli([...g, 'delete', '--force', id]));
    const started = await cli([...g, 'run', '--detach', '--bundle', b.dir, id]);
    t.equal(started.code, 0, `${name} run -d: ${started.stderr}`);
    results[name] = [];
    for (const user of [[], ['--user', '1000:1000'], ['--user', '4242:4242'], ['--env', 'HOME=/given', '--user', '1000:1000']]) {
      const r = await cli([...g, 'exec', ...user, id, '/bin/sh', '-c', 'pwd; echo "HOME=$HOME"']);
      t.equal(r.code, 0, `${name} exec ${user.join(' ')}: ${r.stderr}`);
      results[name].push(r.stdout);
    }
    t.equal((await cli([...g, 'delete', '--force', id])).code, 0);
    t.same(leftovers(g[1], id), [], `${name}: nothing left after delete`);
  }
  t.same(results.berth, results.runc, 'same as runc');
  t.same(results.berth, ['/made/for/exec\nHOME=/root\n', '/made/for/exec\nHOME=/home/app\n', '/made/for/exec\nHOME=/\n', '/made/for/exec\nHOME=/given\n']);
});
