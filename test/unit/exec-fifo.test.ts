// lib/runtime/exec-fifo.ts: start() reads the created process's one byte from its exec fifo. The byte is
// picked up when it is written, however late; a process that is gone is "stopped"; a writer that came and
// went without a byte leaves the fifo hung up, which must not turn the wait into a busy loop.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { native } from '../../lib/sys/native';
import { releaseExecFifo } from '../../lib/runtime/exec-fifo';

function fifo(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-fifo-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'exec.fifo');
  native().mknod(file, 0o010000 | 0o600, 0, 0);
  return file;
}

/** The process's end, opened once start() has its reading end open (so it does not block). */
const openWriter = (file: string): number => fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);

t.test('a byte written late is read, and the wait ends', async (t) => {
  const file = fifo(t);
  const released = releaseExecFifo(file, () => true);
  const w = openWriter(file);
  setTimeout(() => fs.writeSync(w, '0'), 50);
  await released;
  t.pass('released');
  t.throws(() => fs.writeSync(w, '0'), { code: 'EPIPE' }, 'start closed its reading end');
  fs.closeSync(w);
});

t.test('nobody opened the fifo and the process is gone: stopped', async (t) => {
  const file = fifo(t);
  let alive = true;
  const released = releaseExecFifo(file, () => alive);
  setTimeout(() => { alive = false; }, 30);
  await t.rejects(released, /cannot start a container that has stopped/);
});

t.test('a writer that closed without a byte: the wait sleeps between checks', async (t) => {
  const file = fifo(t);
  let checks = 0;
  let alive = true;
  const released = releaseExecFifo(file, () => { checks++; return alive; });
  fs.closeSync(openWriter(file)); // the fifo now polls hung up
  await new Promise((r) => setTimeout(r, 100));
  alive = false;
  await t.rejects(released, /cannot start a container that has stopped/);
  // about one check per 10 ms; a loop on the hang-up would have made thousands
  t.ok(checks < 100, `${checks} liveness checks in 100 ms`);
});
