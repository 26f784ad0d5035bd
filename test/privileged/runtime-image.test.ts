// `berth run --image`: containers from the OverlayFS store, each with its own upper layer.
import { reexecIsolated } from '../helpers/isolate';
reexecIsolated();

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { berth } from '../helpers/run';
import { writeBusyboxDockerArchive } from '../helpers/busybox-image';
import { uniqueId } from '../helpers/bundle';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-image-'));
const dataRoot = path.join(dir, 'data');
const g = ['--root', path.join(dir, 'state')];
const img = ['--data-root', dataRoot];

t.before(async () => {
  await writeBusyboxDockerArchive(path.join(dir, 'busybox.tar'), 'busybox:latest');
  const r = await berth(['image', ...img, 'import', path.join(dir, 'busybox.tar'), '--name', 'busybox']);
  if (r.code !== 0) throw new Error(r.stderr);
});
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

const overlayMounts = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dataRoot));

t.test('run --image uses the image config and the given command', async (t) => {
  const r = await berth([...g, 'run', '--image', 'busybox', ...img, uniqueId('img'), '/bin/sh', '-c', 'echo "$PATH"; pwd; id -u; cat /proc/self/mountinfo | grep -c " / / .*overlay"']);
  t.equal(r.code, 0, r.stderr);
  const [p, cwd, uid, overlayRoot] = r.stdout.trim().split('\n');
  t.equal(p, '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  t.equal(cwd, '/');
  t.equal(uid, '0');
  t.equal(overlayRoot, '1', 'the root is an overlay');
  t.same(overlayMounts(), [], 'unmounted after run');
});

t.test('writes go to the container\'s own upper layer; deleting leaves no mount', async (t) => {
  const a = uniqueId('img');
  const b = uniqueId('img');
  t.teardown(async () => { await berth([...g, 'delete', '--force', a]); await berth([...g, 'delete', '--force', b]); });
  t.equal((await berth([...g, 'run', '-d', '--image', 'busybox', ...img, a, '/bin/sh', '-c', 'echo mine > /tmp/note; sleep 1000'])).code, 0);
  t.equal((await berth([...g, 'run', '-d', '--image', 'busybox', ...img, b, '/bin/sleep', '1000'])).code, 0);
  // the shell writes the note after run -d returns: wait for it rather than for a fixed time
  let note = '';
  for (let i = 0; i < 100 && note !== 'mine\n'; i++) {
    note = (await berth([...g, 'exec', a, '/bin/cat', '/tmp/note'])).stdout;
    if (note !== 'mine\n') await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(note, 'mine\n');
  const other = await berth([...g, 'exec', b, '/bin/cat', '/tmp/note']);
  t.not(other.code, 0, 'the second container does not see it');
  t.ok(fs.existsSync(path.join(dataRoot, 'containers', a, 'upper', 'tmp', 'note')), 'the file is in the upper dir');
  t.equal(overlayMounts().length, 2);
  t.equal((await berth([...g, 'delete', '--force', a])).code, 0);
  t.equal((await berth([...g, 'delete', '--force', b])).code, 0);
  t.same(overlayMounts(), []);
  t.notOk(fs.existsSync(path.join(dataRoot, 'containers', a)), 'upper and work removed');
  t.equal((await berth(['image', ...img, 'rm', 'busybox'])).code, 0);
  t.equal((await berth(['image', ...img, 'gc'])).code, 0);
  t.same(fs.readdirSync(path.join(dataRoot, 'layers')).filter((n) => !n.startsWith('.')), [], 'gc removed the layers');
});

t.test('an unknown image fails create and leaves nothing', async (t) => {
  const id = uniqueId('img');
  const r = await berth([...g, 'run', '--image', 'nope', ...img, id]);
  t.equal(r.code, 1);
  t.match(r.stderr, /nope/);
  t.notOk(fs.existsSync(path.join(dir, 'state', id)));
});
