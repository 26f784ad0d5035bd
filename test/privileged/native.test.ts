import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { native, LOCK } from '../../lib/sys/native';

t.test('waitPid reaps an adopted orphan and reports its signal', async (t) => {
  const n = native();
  n.setChildSubreaper(true);
  t.teardown(() => n.setChildSubreaper(false));
  // the shell backgrounds a sleep and exits: the sleep is re-parented to us, and node's child_process
  // does not know it, so only waitPid reaps it
  const out = execFileSync('/bin/sh', ['-c', 'sleep 30 >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' });
  const pid = Number(out.trim());
  t.ok(pid > 0, `orphan pid ${pid}`);
  const result = new Promise<[number, number]>((resolve) => n.waitPid(pid, (c, s) => resolve([c, s])));
  process.kill(pid, 'SIGTERM');
  t.same(await result, [-1, 15]);
});

t.test('xattrs round-trip and flock excludes', async (t) => {
  const n = native();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-native-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const f = path.join(dir, 'f');
  fs.writeFileSync(f, '');
  n.lsetxattr(f, 'trusted.berth.test', Buffer.from('y'));
  t.equal(n.lgetxattr(f, 'trusted.berth.test')?.toString(), 'y');
  t.equal(n.lgetxattr(f, 'trusted.berth.absent'), null);
  t.ok(n.llistxattr(f).includes('trusted.berth.test'));
  const a = fs.openSync(f, 'r');
  const b = fs.openSync(f, 'r');
  n.flock(a, LOCK.EX);
  t.throws(() => n.flock(b, LOCK.EX | LOCK.NB), { code: 'EAGAIN' });
  n.flock(a, LOCK.UN);
  n.flock(b, LOCK.EX | LOCK.NB);
  fs.closeSync(a);
  fs.closeSync(b);
});
