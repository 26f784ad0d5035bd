// The container's cgroups as runc lays them out on this host, runc beside berth on the same bundle: the
// hierarchies it is placed in (/proc/self/cgroup; on a hybrid host that includes its own cgroup of the
// name=systemd hierarchy), what /sys/fs/cgroup holds inside (name=systemd mounted at systemd, the v2
// tree of a hybrid host not mounted), and every cgroup directory gone after delete.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeBundle, uniqueId } from '../helpers/bundle';
import { berth, leftovers, type RunResult } from '../helpers/run';
import { runc, runcPath } from '../helpers/runc';
import { hierarchies } from '../../lib/cgroups/hierarchy';

runcPath();

const SHOW = [
  'cat /proc/self/cgroup',
  'echo --',
  'ls /sys/fs/cgroup',
  'echo --',
  // mount point, root within its hierarchy, mount options, then filesystem type, source and super options
  'while read -r _ _ _ root at opts rest; do fs=${rest#* - }; case "$at" in /sys/fs/cgroup*) echo "$at $root $opts $fs";; esac; done < /proc/self/mountinfo',
].join('; ');

/** Every directory a relative cgroupsPath resolves to, one per hierarchy of this host. */
function dirsOf(rel: string): string[] {
  const h = hierarchies();
  const dirs = Object.entries(h.v1).map(([key, mount]) => path.join(mount, h.own[key] ?? '/', rel));
  if (h.unified) dirs.push(path.join(h.unified, h.own[''] ?? '/', rel));
  return [...new Set(dirs)];
}

t.test('placement and /sys/fs/cgroup inside the container: the same as runc, and removed after delete', async (t) => {
  const b = makeBundle(['/bin/sh', '-c', SHOW]);
  t.teardown(() => b.cleanup());
  const rel = uniqueId('rtd-cg');
  b.spec.linux!.cgroupsPath = rel; // the same cgroups for both, one after the other, below our own
  b.write();
  const out: Record<string, RunResult> = {};
  for (const [name, cli] of [['berth', berth], ['runc', runc]] as const) {
    const id = uniqueId(`rtd-cg-${name}`);
    out[name] = await cli(['--root', path.join(b.dir, `state-${name}`), 'run', '--bundle', b.dir, id]);
    t.equal(out[name].code, 0, `${name}: ${out[name].stderr.trim()}`);
    t.same(dirsOf(rel).filter((d) => fs.existsSync(d)), [], `${name}: every cgroup directory removed`);
    t.same(leftovers(path.join(b.dir, `state-${name}`), id), [], `${name}: nothing left`);
  }
  t.equal(out.berth.stdout, out.runc.stdout, 'same /proc/self/cgroup, /sys/fs/cgroup listing and cgroup mounts');
  const [cgroups, listing] = out.berth.stdout.split('\n--\n');
  for (const line of cgroups.trim().split('\n')) t.ok(line.endsWith(`/${rel}`), `placed in its own cgroup: ${line}`);
  if (hierarchies().v1['name=systemd']) {
    t.match(cgroups, new RegExp(`^\\d+:name=systemd:/.*${rel}$`, 'm'), 'its own cgroup of the name=systemd hierarchy');
    t.match(listing, /^systemd$/m, 'name=systemd mounted at /sys/fs/cgroup/systemd');
  }
});

t.test('exec joins the name=systemd cgroup too', async (t) => {
  const b = makeBundle(['/bin/sleep', '1000']);
  const id = uniqueId('rtd-cg-exec');
  t.teardown(async () => { await berth(['--root', b.root, 'delete', '--force', id]); b.cleanup(); });
  b.spec.linux!.cgroupsPath = id;
  b.write();
  t.equal((await berth(['--root', b.root, 'run', '--detach', '--bundle', b.dir, id])).code, 0);
  const init = (await berth(['--root', b.root, 'exec', id, '/bin/cat', '/proc/1/cgroup'])).stdout;
  const self = (await berth(['--root', b.root, 'exec', id, '/bin/cat', '/proc/self/cgroup'])).stdout;
  t.equal(self, init, 'the exec\'d process is in every cgroup of the container\'s init');
  if (hierarchies().v1['name=systemd']) t.match(self, new RegExp(`^\\d+:name=systemd:/.*${id}$`, 'm'), 'name=systemd included');
  t.equal((await berth(['--root', b.root, 'delete', '--force', id])).code, 0);
  t.same(dirsOf(id).filter((d) => fs.existsSync(d)), [], 'removed after delete');
});
