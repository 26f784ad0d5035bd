// lib/server/netns-pool.ts: which warm launches the front-end could give a ready-made network namespace
// (the ones whose clone would otherwise make one, native/src/bootstrap.c), and the pool's hand-out rules.
import t from 'tap';
import * as fs from 'node:fs';
import type { LaunchPlan } from '../../lib/runtime/launch-plan';
import { namespacePlan } from '../../lib/runtime/plan';
import type { Namespace } from '../../lib/runtime/spec/types';
import { NetnsPool, wantsReadyNetns } from '../../lib/server/netns-pool';

const plan = (namespaces: Namespace[], timeOffsets: string | null = null): LaunchPlan =>
  ({ ...namespacePlan(namespaces), timeOffsets } as LaunchPlan);

t.test('a new network namespace made by a direct clone: one from the pool', async (t) => {
  t.ok(wantsReadyNetns(plan([{ type: 'pid' }, { type: 'network' }, { type: 'mount' }])));
});

t.test('no pool where the clone makes no network namespace or cannot use one made ahead', async (t) => {
  t.notOk(wantsReadyNetns(plan([{ type: 'pid' }, { type: 'mount' }])), 'the host network');
  t.notOk(wantsReadyNetns(plan([{ type: 'network', path: '/proc/1/ns/net' }, { type: 'mount' }])), 'a network namespace joined');
  t.notOk(wantsReadyNetns(plan([{ type: 'network' }, { type: 'pid', path: '/proc/1/ns/pid' }])), 'another namespace joined: not a direct clone');
  t.notOk(wantsReadyNetns(plan([{ type: 'network' }, { type: 'user' }])), 'a user namespace owns the network one it makes');
  t.notOk(wantsReadyNetns(plan([{ type: 'network' }, { type: 'time' }], 'monotonic 1 0')), 'a time namespace: not a direct clone');
});

t.test('the pool hands out each namespace once, only while fresh, and pauses a while when the kernel refuses', async (t) => {
  let clock = 0;
  let calls = 0;
  let refuse = false;
  const made: number[] = [];
  const open = new Set<number>(); // made and not closed yet, by the pool or by us
  const pool = new NetnsPool({
    maxAgeMs: 100,
    retryAfterMs: 5000,
    now: () => clock,
    make: async () => {
      calls++;
      await null; // made later, as the addon's are: a number the pool just closed is not reused at once
      if (refuse) return -1;
      const fd = fs.openSync('/dev/null', 'r');
      made.push(fd);
      open.add(fd);
      return fd;
    },
  });
  const settle = () => new Promise((r) => setImmediate(r));
  /** what take() hands out is ours to close */
  const take = (): number => {
    const fd = pool.take();
    if (fd >= 0) {
      fs.closeSync(fd);
      open.delete(fd);
    }
    return fd;
  };
  t.teardown(() => { for (const fd of open) fs.closeSync(fd); });

  t.equal(take(), -1, 'none ready at first');
  await settle();
  t.equal(made.length, 2, 'that take filled the pool');
  t.equal(take(), made[0], 'the oldest goes first');
  await settle();
  t.equal(made.length, 3, 'and one is made again');
  clock = 50;
  t.equal(take(), made[1], 'one within its age is handed out');
  await settle();
  clock = 1000;
  const held = made.slice(2);
  t.equal(take(), -1, 'none is fresh after a quiet spell');
  for (const fd of held) {
    t.throws(() => fs.fstatSync(fd), { code: 'EBADF' }, 'the stale ones are closed');
    open.delete(fd);
  }
  await settle();
  refuse = true;
  t.equal(take(), made[made.length - 2], 'the fresh ones are handed out');
  await settle();
  const asked = calls;
  t.ok(take() >= 0, 'the last fresh one');
  t.equal(take(), -1, 'the kernel refused what was asked for since: none ready');
  await settle();
  t.equal(calls, asked, 'and it asks no more for now');
  clock += 4999;
  t.equal(take(), -1, 'still none within the pause');
  await settle();
  t.equal(calls, asked, 'nor does it ask within the pause');
  refuse = false;
  clock += 1;
  t.equal(take(), -1, 'after the pause: none made yet');
  await settle();
  t.equal(calls, asked + 2, 'but it asks again, to fill the pool');
  t.equal(take(), made[made.length - 2], 'and hands out what the kernel now makes');
});
