// Waiting in tests: poll a condition until it holds or throw naming what never happened; a free TCP port on
// 127.0.0.1 for a speaker to listen on. (lib/lab's within() is the lab's variant: stretched by its time
// scale, and it reports -1 rather than throwing.)
import * as net from 'node:net';

/** Resolves once `cond()` holds, polling every `stepMs`; throws "timed out waiting for <what>" after `ms`. */
export async function until(what: string, cond: () => boolean, ms = 8000, stepMs = 20): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** A port on 127.0.0.1 that was free a moment ago. */
export async function freeLoopbackPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
