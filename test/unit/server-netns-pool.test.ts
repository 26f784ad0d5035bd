// lib/server/netns-pool.ts wantsReadyNetns: which warm launches the front-end could give a ready-made
// network namespace, the ones whose clone would otherwise make one (native/src/bootstrap.c).
import t from 'tap';
import type { LaunchPlan } from '../../lib/runtime/launch-plan';
import { namespacePlan } from '../../lib/runtime/plan';
import type { Namespace } from '../../lib/runtime/spec/types';
import { wantsReadyNetns } from '../../lib/server/netns-pool';

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
