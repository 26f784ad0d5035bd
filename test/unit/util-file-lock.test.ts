// flock conflicts between two open descriptors even in one process, so one process can play both sides.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { lock, lockNow, lockSync, tryLockSync, withLock, withLockSync } from '../../lib/util/file-lock';
import { LOCK, native } from '../../lib/sys/native';

function scratch(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-file-lock-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Whether another descriptor could take the lock in `op` mode right now. */
function free(file: string, op: number): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    native().flock(fd, op | LOCK.NB);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

t.test('lockSync creates the lock file with its mode, holds it exclusively until released', async (t) => {
  const f = path.join(scratch(t), 'x.lock');
  const release = lockSync(f, 'exclusive', { fileMode: 0o644 });
  t.equal(fs.statSync(f).mode & 0o777, 0o644 & ~process.umask());
  t.notOk(free(f, LOCK.SH), 'held');
  release();
  t.ok(free(f, LOCK.EX), 'released');
});

t.test('shared locks share; an exclusive one waits for them without blocking the event loop', async (t) => {
  const f = path.join(scratch(t), 'x.lock');
  const a = await lock(f, 'shared');
  const b = await lock(f, 'shared');
  t.notOk(free(f, LOCK.EX));
  t.ok(free(f, LOCK.SH));
  let got = false;
  const pending = lock(f, 'exclusive').then((r) => { got = true; return r; });
  await new Promise((r) => setTimeout(r, 30));
  t.notOk(got, 'still waiting while shared holders remain');
  a();
  b();
  const c = await pending;
  t.ok(got);
  t.notOk(free(f, LOCK.SH), 'now exclusive');
  c();
});

t.test('withLock and withLockSync release on a throw and return the value otherwise', async (t) => {
  const f = path.join(scratch(t), 'x.lock');
  t.equal(withLockSync(f, 'exclusive', () => 7), 7);
  t.throws(() => withLockSync(f, 'exclusive', () => { throw new Error('boom'); }), /boom/);
  t.ok(free(f, LOCK.EX), 'released after the sync throw');
  t.equal(await withLock(f, 'shared', async () => { t.notOk(free(f, LOCK.EX)); return 8; }), 8);
  await t.rejects(withLock(f, 'exclusive', async () => { throw new Error('bang'); }), /bang/);
  t.ok(free(f, LOCK.EX), 'released after the async throw');
});

t.test('a directory locks itself; a missing one is ENOENT and no file is created', async (t) => {
  const dir = scratch(t);
  const release = await lock(dir, 'exclusive', { directory: true });
  t.notOk(free(dir, LOCK.EX));
  release();
  t.same(fs.readdirSync(dir), [], 'nothing created inside');
  await t.rejects(lock(path.join(dir, 'gone'), 'exclusive', { directory: true }), { code: 'ENOENT' });
  t.throws(() => lockSync(path.join(dir, 'gone'), 'exclusive', { directory: true }), { code: 'ENOENT' });
  t.notOk(fs.existsSync(path.join(dir, 'gone')));
});

t.test('tryLockSync returns the held descriptor, or undefined while another holds the lock', async (t) => {
  const f = path.join(scratch(t), 'owner.pid');
  const fd = tryLockSync(f, 'exclusive');
  t.type(fd, 'number');
  t.notOk(free(f, LOCK.SH), 'held through the returned descriptor');
  t.equal(tryLockSync(f, 'exclusive'), undefined, 'a second owner is told, not blocked');
  fs.closeSync(fd!);
  const again = tryLockSync(f, 'exclusive');
  t.type(again, 'number', 'free again once the descriptor closes');
  fs.closeSync(again!);
});

t.test('lockNow: a free lock taken at once with lock()\'s release, undefined while another holds it', async (t) => {
  const dir = scratch(t);
  const release = lockNow(dir, 'exclusive', { directory: true });
  t.type(release, 'function');
  t.notOk(free(dir, LOCK.SH), 'held until released');
  t.equal(lockNow(dir, 'exclusive', { directory: true }), undefined, 'a second taker is told, not blocked');
  release!();
  t.ok(free(dir, LOCK.EX), 'free once released');
  const removed = lockNow(dir, 'shared', { directory: true })!;
  removed(true); // the removed-directory release closes off the main thread
  await new Promise((r) => setTimeout(r, 20));
  t.ok(free(dir, LOCK.EX), 'and free after that one too');
});
