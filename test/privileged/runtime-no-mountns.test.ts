// A config without a mount namespace (runtime-spec: inherited from the runtime), with runc as the control:
// no pivot_root, the container is chrooted into its rootfs, and its mounts are made in the caller's mount
// namespace. So the whole file runs in a private mount namespace of its own, never the machine's.
import { reexecIsolated } from '../helpers/isolate';
reexecIsolated();

import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeBundle, uniqueId, type Bundle } from '../helpers/bundle';
import { berth, leftovers, type RunResult } from '../helpers/run';
import { runc, runcPath } from '../helpers/runc';
import { MS, native } from '../../lib/sys/native';
import { detachAll, mountsBelow } from '../helpers/mounts';

runcPath();
// Shared, as / is on a systemd host (peers only inside this test's namespace): berth must leave it so.
native().mount(null, '/', null, MS.SHARED | MS.REC, null);

type Cli = (args: string[]) => Promise<RunResult>;

function noMountNamespace(t: Test, args: string[]): Bundle {
  const b = makeBundle(args);
  fs.chmodSync(b.dir, 0o755);
  b.spec.linux!.namespaces = b.spec.linux!.namespaces!.filter((n) => n.type !== 'mount');
  // runc refuses these without a mount namespace: "unable to restrict sys entries ..."
  b.spec.linux!.maskedPaths = [];
  b.spec.linux!.readonlyPaths = [];
  b.write();
  t.teardown(() => { detachAll(path.join(b.dir, 'rootfs')); b.cleanup(); });
  return b;
}

/** The propagation fields of / in this namespace ("shared:N", "master:N", or none). */
const rootPropagation = (): string => {
  const line = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === '/').pop()!;
  return line.split(' - ')[0].split(' ').slice(6).join(' ');
};

t.test('run: chrooted into the rootfs, the same view as runc gives', async (t) => {
  const b = noMountNamespace(t, ['/bin/sh', '-c', 'pwd; ls /; while read -r _ _ _ _ at rest; do fs=${rest#* - }; echo "$at ${fs%% *}"; done < /proc/self/mountinfo | sort; readlink /proc/self/ns/mnt']);
  const out: Record<string, string> = {};
  const before = rootPropagation();
  for (const [name, cli] of [['berth', berth], ['runc', runc]] as [string, Cli][]) {
    const id = uniqueId(`rtd-nomnt-${name}`);
    b.spec.linux!.cgroupsPath = id;
    b.write();
    const r = await cli(['--root', path.join(b.dir, `state-${name}`), 'run', '--bundle', b.dir, id]);
    t.equal(r.code, 0, `${name}: ${r.stderr.trim()}`);
    out[name] = r.stdout;
    if (name === 'berth') {
      t.same(mountsBelow(path.join(b.dir, 'rootfs')), [], 'berth: no mount of the container left in the caller\'s namespace');
      t.same(leftovers(path.join(b.dir, 'state-berth'), id), [], 'berth: nothing left');
      t.equal(rootPropagation(), before, 'berth: the propagation of the caller\'s / is unchanged');
    } else {
      // runc's run leaves every mount it made; berth's delete removes what create made, as delete must
      t.comment(`runc left ${mountsBelow(path.join(b.dir, 'rootfs')).length} mounts in the caller's namespace`);
      detachAll(path.join(b.dir, 'rootfs'));
    }
  }
  t.equal(out.berth, out.runc, 'same pwd, root listing, mounts and mount namespace as runc');
  t.match(out.berth, /^\/\nbin\ndev\netc\n/);
  t.match(out.berth, /\/proc proc\n/);
  t.ok(out.berth.endsWith(`${fs.readlinkSync('/proc/self/ns/mnt')}\n`), 'the caller\'s mount namespace');
});

t.test('run -d, exec and delete: the mounts live in the caller\'s namespace until delete', async (t) => {
  const b = noMountNamespace(t, ['/bin/sleep', '1000']);
  b.spec.process!.cwd = '/tmp';
  const rootfs = path.join(b.dir, 'rootfs');
  const seen: Record<string, { mounts: string[]; exec: string }> = {};
  for (const [name, cli] of [['berth', berth], ['runc', runc]] as [string, Cli][]) {
    const id = uniqueId(`rtd-nomnt-d-${name}`);
    const g = ['--root', path.join(b.dir, `state-${name}`)];
    b.spec.linux!.cgroupsPath = id;
    b.write();
    t.teardown(() => cli([...g, 'delete', '--force', id]));
    t.equal((await cli([...g, 'run', '--detach', '--bundle', b.dir, id])).code, 0, `${name} run -d`);
    const mounts = mountsBelow(rootfs);
    // exec joins the namespaces the container has: without a mount namespace, runc's exec runs on the
    // caller's root, and so does berth's
    const exec = await cli([...g, 'exec', id, '/bin/sh', '-c', 'pwd; ls / | grep -c .; echo "HOME=$HOME"']);
    t.equal(exec.code, 0, `${name} exec: ${exec.stderr}`);
    seen[name] = { mounts, exec: exec.stdout };
    t.equal((await cli([...g, 'delete', '--force', id])).code, 0, `${name} delete`);
    if (name === 'berth') {
      t.same(mountsBelow(rootfs), [], 'berth: delete leaves no mount in the caller\'s namespace');
      t.same(leftovers(g[1], id), [], 'berth: nothing left');
    } else {
      detachAll(rootfs);
    }
  }
  t.same(seen.berth.mounts, seen.runc.mounts, 'the same mounts in the caller\'s namespace as runc makes');
  t.ok(seen.berth.mounts.includes('/') && seen.berth.mounts.includes('/proc') && seen.berth.mounts.includes('/dev'), seen.berth.mounts.join(' '));
  t.equal(seen.berth.exec, seen.runc.exec, 'exec: the same cwd, root and HOME as runc');
  t.equal(seen.berth.exec, `/tmp\n${fs.readdirSync('/').filter((n) => !n.startsWith('.')).length}\nHOME=/root\n`);
});

t.test('a create that fails half-way leaves no mount in the caller\'s namespace', async (t) => {
  const b = noMountNamespace(t, ['/bin/true']);
  b.spec.mounts!.push({ destination: '/data', type: 'bind', source: path.join(b.dir, 'no-such-source'), options: ['rbind'] });
  b.write();
  const id = uniqueId('rtd-nomnt-bad');
  const r = await berth(['--root', b.root, 'create', '--bundle', b.dir, id]);
  t.equal(r.code, 1);
  t.match(r.stderr, /mounts\[7\]: mount .*no-such-source: ENOENT/);
  t.same(mountsBelow(path.join(b.dir, 'rootfs')), [], 'the rootfs bind and the mounts made before the failure are gone');
  t.same(leftovers(b.root, id), []);
});

t.test('masks and read-only paths need a mount namespace, as runc says', async (t) => {
  const b = noMountNamespace(t, ['/bin/true']);
  b.spec.linux!.maskedPaths = ['/proc/kcore'];
  b.write();
  const id = uniqueId('rtd-nomnt-mask');
  const r = await berth(['--root', b.root, 'create', '--bundle', b.dir, id]);
  t.equal(r.code, 1);
  t.match(r.stderr, /^berth: linux\.maskedPaths: unable to restrict sys entries without a private mount namespace\n$/);
  const rr = await runc(['--root', path.join(b.dir, 'runc-state'), 'create', '--bundle', b.dir, id]);
  t.not(rr.code, 0, 'runc refuses it too');
  t.match(rr.stderr, /unable to restrict sys entries without a private MNT namespace/);
  t.same(leftovers(b.root, id), []);
});
