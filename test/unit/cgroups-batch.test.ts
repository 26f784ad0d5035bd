// The native batch executor (native/src/fsbatch.c) and its builder (lib/cgroups/batch.ts), on plain files
// in a temporary directory: order, the stop rule, EEXIST, reads, cpuset-style fills, argument checks.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Batch, errnoName, textOf } from '../../lib/cgroups/batch';
import { native } from '../../lib/sys/native';
import { ConfigError } from '../../lib/util/errors';

const ENOENT = 2;
const EEXIST = 17;
const ENOTEMPTY = 39;
const EFBIG = 27;

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-batch-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('ops run in order: a directory made by one op is there for the next', async (t) => {
  const d = tmp(t);
  const b = new Batch();
  b.mkdir(path.join(d, 'a'));
  b.mkdir(path.join(d, 'a', 'b'));
  b.rmdir(path.join(d, 'a', 'b'));
  b.mkdir(path.join(d, 'a', 'c'));
  const out = await b.run();
  t.same(out, { results: [0, 0, 0, 0], failed: -1, errno: 0 });
  t.same(fs.readdirSync(path.join(d, 'a')), ['c'], 'b made then removed, c made after');
  t.equal((fs.statSync(path.join(d, 'a')).mode & 0o777) & ~process.umask(), 0o755 & ~process.umask(), 'mode 0755 (less the umask)');
});

t.test('mkdir reports EEXIST distinctly and goes on', async (t) => {
  const d = tmp(t);
  fs.mkdirSync(path.join(d, 'old'));
  const b = new Batch();
  b.mkdir(path.join(d, 'old'));
  b.mkdir(path.join(d, 'new'));
  const out = await b.run();
  t.same(out.results, [-EEXIST, 0], 'which directory it made is in the results');
  t.equal(errnoName(out.results[0]), 'EEXIST');
  t.equal(out.failed, -1);
});

t.test('the first unexpected error stops the batch with its index and errno; nofail ops only report', async (t) => {
  const d = tmp(t);
  fs.mkdirSync(path.join(d, 'full'));
  fs.writeFileSync(path.join(d, 'full', 'f'), '');
  const b = new Batch();
  b.mkdir(path.join(d, 'x'));
  b.rmdir(path.join(d, 'missing'), { nofail: true });
  b.rmdir(path.join(d, 'full')); // ENOTEMPTY: stops here
  b.mkdir(path.join(d, 'never'));
  const out = await b.run();
  t.same(out, { results: [0, -ENOENT, -ENOTEMPTY], failed: 2, errno: ENOTEMPTY });
  t.notOk(fs.existsSync(path.join(d, 'never')), 'nothing after the failing op ran');
  // run again: x's EEXIST does not stop it, the same rmdir does, and runOrThrow throws it as fs.rmdir would
  await t.rejects(b.runOrThrow(), { code: 'ENOTEMPTY', syscall: 'rmdir', path: path.join(d, 'full') });
});

t.test('write is one write(2) without O_CREAT or O_TRUNC; read returns the text', async (t) => {
  const d = tmp(t);
  fs.writeFileSync(path.join(d, 'f'), 'old content');
  const b = new Batch();
  b.write(d, 'f', 'NEW');
  const r = b.read(d, 'f');
  b.write(d, 'absent', 'x', { nofail: true });
  const gone = b.read(d, 'absent', { nofail: true });
  const out = await b.run();
  t.equal(textOf(out, r), 'NEW content', 'written at offset 0, not truncated');
  t.equal(out.results[2], -ENOENT, 'no file is created');
  t.equal(textOf(out, gone), undefined);
  t.notOk(fs.existsSync(path.join(d, 'absent')));
});

t.test('reads up to 64 KiB; beyond is EFBIG', async (t) => {
  const d = tmp(t);
  fs.writeFileSync(path.join(d, 'max'), 'x'.repeat(64 * 1024));
  fs.writeFileSync(path.join(d, 'big'), 'x'.repeat(64 * 1024 + 1));
  const b = new Batch();
  const max = b.read(d, 'max');
  b.read(d, 'big');
  const out = await b.run();
  t.equal(textOf(out, max)?.length, 64 * 1024);
  t.same([out.failed, out.errno], [1, EFBIG]);
});

t.test("fill copies the parent's value only into a blank file", async (t) => {
  const d = tmp(t);
  const child = path.join(d, 'child');
  const other = path.join(d, 'other');
  fs.mkdirSync(child);
  fs.mkdirSync(other);
  fs.writeFileSync(path.join(d, 'cpus'), '0-1\n');
  fs.writeFileSync(path.join(child, 'cpus'), '\n');
  fs.writeFileSync(path.join(other, 'cpus'), '1\n');
  fs.writeFileSync(path.join(d, 'mems'), '\n'); // nothing to copy
  fs.writeFileSync(path.join(child, 'mems'), '');
  const b = new Batch();
  b.fill(child, 'cpus');
  b.fill(other, 'cpus');
  b.fill(child, 'mems');
  b.fill(path.join(d, 'nochild'), 'cpus'); // the child's file is missing: an error
  const out = await b.run();
  t.same(out.results, [1, 0, 0, -ENOENT], '1 when it copied, 0 when there was nothing to do');
  t.equal(fs.readFileSync(path.join(child, 'cpus'), 'utf8'), '0-1\n');
  t.equal(fs.readFileSync(path.join(other, 'cpus'), 'utf8'), '1\n', 'a set value is kept');
  t.equal(out.failed, 3);
});

t.test('errors read as the fs calls they replace; a write with a field is a ConfigError naming it', async (t) => {
  const d = tmp(t);
  const b = new Batch();
  b.mkdir(path.join(d, 'no', 'parent'));
  b.write(d, 'memory.max', '5M', { field: 'linux.resources.memory.limit' });
  const e = b.error(0, ENOENT) as NodeJS.ErrnoException;
  t.match(e, { code: 'ENOENT', errno: -ENOENT, syscall: 'mkdir', path: path.join(d, 'no', 'parent') });
  t.equal(e.message, `ENOENT: no such file or directory, mkdir '${path.join(d, 'no', 'parent')}'`);
  const c = b.error(1, ENOENT);
  t.ok(c instanceof ConfigError);
  t.match(c, { field: 'linux.resources.memory.limit', message: /writing "5M" to .*memory\.max: not supported/ });
});

t.test('the work runs off the event loop: a write blocked on a FIFO leaves timers running', async (t) => {
  const d = tmp(t);
  const fifo = path.join(d, 'fifo');
  native().mknod(fifo, 0o010000 | 0o600, 0, 0);
  const b = new Batch();
  b.write(d, 'fifo', 'through the pool');
  const done = b.run(); // its open(O_WRONLY) blocks until a reader opens
  let ticks = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => ++ticks === 3 && (clearInterval(timer), resolve()), 5);
  });
  t.equal(ticks, 3, 'the event loop kept running');
  const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  t.teardown(() => fs.closeSync(reader));
  t.same(await done, { results: [0], failed: -1, errno: 0 });
  t.equal(fs.readFileSync(reader, 'utf8'), 'through the pool');
});

t.test('bad arguments are TypeErrors that say what is wrong', async (t) => {
  const n = native();
  const cases: [unknown, RegExp][] = [
    ['mkdir /x', /ops must be an array/],
    [[1, '/x'], /multiple of 3/],
    [[9, '/x', null], /ops\[0\] \(op 0\) must be an op code/],
    [[1, '/x', null, '1', '/y', null], /ops\[3\] \(op 1\) must be an op code/],
    [[1, '', null], /ops\[1\] \(path of op 0\) must be a non-empty string/],
    [[1, 7, null], /ops\[1\] \(path of op 0\)/],
    [[1, '/x\0y', null], /without NUL bytes/],
    [[3, '/x', 5], /ops\[2\] \(value of op 0\) must be a string/],
    [[3, '/x', 'a\0b'], /ops\[2\] \(value of op 0\)/],
    [[5, '/x', null], /ops\[2\] \(parent file of op 0\)/],
    [[1, '/x', 'y'], /ops\[2\] \(arg of op 0\) must be null/],
  ];
  for (const [ops, message] of cases) {
    t.throws(() => n.fsBatch(ops as (number | string | null)[]), { name: 'TypeError', message }, String(message));
  }
  t.same(await n.fsBatch([]), { results: [], failed: -1, errno: 0 }, 'an empty batch resolves');
});

t.test('create makes a new 0600 file (never over an old one), rename replaces, unlink removes', async (t) => {
  const d = tmp(t);
  const n = native();
  const tmpFile = path.join(d, '.state.tmp');
  const file = path.join(d, 'state.json');
  fs.writeFileSync(file, 'old');
  const big = 'x'.repeat(200 * 1024); // a regular file takes content beyond a control file's one write
  const out = await n.fsBatch([6, tmpFile, big, 7, tmpFile, file]);
  t.same(out, { results: [0, 0], failed: -1, errno: 0 });
  t.equal(fs.readFileSync(file, 'utf8'), big, 'the content replaced the old file whole');
  t.equal(fs.statSync(file).mode & 0o777, 0o600, 'mode 0600 whatever the umask');
  t.notOk(fs.existsSync(tmpFile), 'the temp file is gone');

  fs.writeFileSync(tmpFile, 'someone else');
  const clash = await n.fsBatch([6, tmpFile, 'mine', 7, tmpFile, file]);
  t.same(clash, { results: [-EEXIST], failed: 0, errno: EEXIST }, 'create refuses an existing file and stops');
  t.equal(fs.readFileSync(tmpFile, 'utf8'), 'someone else', 'the existing file is untouched');
  t.equal(fs.readFileSync(file, 'utf8'), big, 'nothing was renamed');

  const gone = await n.fsBatch([8, tmpFile, null, 8 | 0x100, tmpFile, null, 7, tmpFile, file]);
  t.same(gone, { results: [0, -ENOENT, -ENOENT], failed: 2, errno: ENOENT }, 'unlink, then a nofail unlink and a rename of what is gone');
  t.throws(() => n.fsBatch([7, tmpFile, null]), { name: 'TypeError', message: /target of op 0/ }, 'rename needs a target');
  t.throws(() => n.fsBatch([9, tmpFile, null]), { name: 'TypeError', message: /op code 1-8/ }, 'unknown op codes are refused');
});
