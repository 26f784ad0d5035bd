// A rootfs whose /proc (or /sys) is a symlink, or anything but an ordinary directory, is refused as runc
// refuses it: a procfs or sysfs mounted through the link would land wherever it points (/tmp, or over
// the container's whole root). runc is the control; the check is made at mount time on the descriptor the
// mount goes through, and also holds for a container that mounts in the caller's namespace.
import { reexecIsolated } from '../helpers/isolate';
reexecIsolated();

import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeBundle, uniqueId } from '../helpers/bundle';
import { berth, leftovers } from '../helpers/run';
import { runc, runcPath } from '../helpers/runc';
import { detachAll, mountsBelow } from '../helpers/mounts';

runcPath();

const cases: { name: string; dir: 'proc' | 'sys'; make(rootfs: string): void; fstype: string }[] = [
  { name: '/proc -> /tmp', dir: 'proc', fstype: 'proc', make: (r) => fs.symlinkSync('/tmp', path.join(r, 'proc')) },
  { name: '/proc -> /', dir: 'proc', fstype: 'proc', make: (r) => fs.symlinkSync('/', path.join(r, 'proc')) },
  { name: '/proc -> ../../../tmp', dir: 'proc', fstype: 'proc', make: (r) => fs.symlinkSync('../../../tmp', path.join(r, 'proc')) },
  { name: '/proc a regular file', dir: 'proc', fstype: 'proc', make: (r) => fs.writeFileSync(path.join(r, 'proc'), '') },
  { name: '/sys -> /tmp', dir: 'sys', fstype: 'sysfs', make: (r) => fs.symlinkSync('/tmp', path.join(r, 'sys')) },
];

for (const withMountNamespace of [true, false]) {
  for (const c of cases) {
    t.test(`${c.name}${withMountNamespace ? '' : ', no mount namespace'}: refused as runc refuses it`, async (t) => {
      // the program would show where procfs and sysfs were mounted, had the container started
      const b = makeBundle(['/bin/sh', '-c', 'grep -E " (proc|sysfs) " /proc/self/mountinfo']);
      const rootfs = path.join(b.dir, 'rootfs');
      // runc leaves the mounts it made before refusing (without a mount namespace, in ours)
      t.teardown(() => { detachAll(rootfs); b.cleanup(); });
      fs.rmSync(path.join(rootfs, c.dir), { recursive: true, force: true });
      c.make(rootfs);
      if (!withMountNamespace) {
        b.spec.linux!.namespaces = b.spec.linux!.namespaces!.filter((n) => n.type !== 'mount');
        b.spec.linux!.maskedPaths = [];
        b.spec.linux!.readonlyPaths = [];
      }
      b.write();
      const id = uniqueId('rtd-proc');
      const r = await berth(['--root', b.root, 'run', '--bundle', b.dir, id]);
      t.equal(r.code, 1, `refused; the program did not run: ${r.stdout}`);
      t.equal(r.stdout, '');
      t.match(r.stderr, new RegExp(`^berth: mounts\\[\\d+\\]: mount /${c.dir}: filesystem "${c.fstype}" must be mounted on ordinary directory\\n$`));
      t.same(leftovers(b.root, id), [], 'nothing left');
      t.same(mountsBelow(rootfs), [], 'no mount left in the caller\'s namespace');
      const rr = await runc(['--root', path.join(b.dir, 'runc-state'), 'run', '--bundle', b.dir, id]);
      t.not(rr.code, 0, 'runc refuses it too');
      t.match(rr.stderr, `filesystem \\"${c.fstype}\\" must be mounted on ordinary directory`);
    });
  }
}
