// native.watchReadable (native/src/fdwatch.c): the launcher's sync socket without node:net. It calls back
// while the socket has data or is hung up, not after stop(), keeps the process alive while it watches,
// and lets it exit once stopped.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { native } from '../../lib/sys/native';

const NATIVE = path.resolve(__dirname, '../../lib/sys/native.js');

t.test('readable data, then the hang-up, then nothing after stop()', async (t) => {
  const n = native();
  const [a, b] = n.socketpair();
  const seen: string[] = [];
  let stop = (): void => undefined;
  const done = new Promise<void>((resolve) => {
    stop = n.watchReadable(a, (status) => {
      t.equal(status, 0, 'no poll error');
      const got = n.unixRecv(a, 100);
      if (got === null) return;
      if (got.data.length === 0) {
        seen.push('end');
        stop();
        resolve();
        return;
      }
      seen.push(got.data.toString());
      // the next message only once this one was read: each wakes the callback again
      if (seen.length === 1) fs.writeSync(b, 'second');
      else fs.closeSync(b);
    });
  });
  fs.writeSync(b, 'first');
  await done;
  t.same(seen, ['first', 'second', 'end']);
  stop(); // a second stop() is harmless
  fs.closeSync(a);
  t.throws(() => n.watchReadable(-1, () => undefined), /watchReadable\(fd, callback\)/, 'a bad fd is refused');
  t.throws(() => (n.watchReadable as (fd: number, cb: unknown) => unknown)(0, 'x'), /watchReadable\(fd, callback\)/, 'so is a missing callback');
});

t.test('a watch keeps the process alive until stopped', async (t) => {
  // an unref'd timer keeps nothing alive: it fires only if the watch holds the loop open, and the child
  // then exits by itself only if stop() lets the loop end
  const code = `const n = require(${JSON.stringify(NATIVE)}).native(); const [a] = n.socketpair();`
    + `const stop = n.watchReadable(a, () => {});`
    + `setTimeout(() => { stop(); process.stdout.write('held'); }, 200).unref();`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 10000 });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'held', 'the watch held the process until stop(), which let it exit');
});
