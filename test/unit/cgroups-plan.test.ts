import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { planResources } from '../../lib/cgroups/plan';
import { PlanContext, type Step } from '../../lib/cgroups/plan-context';
import type { CgroupHandle } from '../../lib/cgroups/types';

function tmpCgroup(t: { teardown(fn: () => void): void }, files: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-plan-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [f, v] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), v);
  return dir;
}

const lines = (steps: Step[]): string[] => steps.map((s) => (s.kind === 'write' ? `${s.file}=${s.value}` : `bpf:${s.program.length / 8}`));

t.test('v1: each resource goes to its controller file, period before quota', async (t) => {
  const dir = tmpCgroup(t, { 'memory.memsw.limit_in_bytes': '9223372036854771712' });
  const h: CgroupHandle = { layout: 'v1', paths: { memory: dir, cpu: dir, cpuset: dir, pids: dir, devices: dir } };
  const steps = await planResources({
    memory: { limit: 100, swap: 200, reservation: 50, swappiness: 10 },
    cpu: { shares: 512, quota: 20000, period: 100000, cpus: '0' },
    pids: { limit: -1 },
    devices: [{ allow: false }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }],
  }, new PlanContext(h, 'create'));
  t.same(lines(steps), [
    'devices.deny=a', 'devices.allow=c 1:3 rw',
    'memory.limit_in_bytes=100', 'memory.memsw.limit_in_bytes=200', 'memory.soft_limit_in_bytes=50', 'memory.swappiness=10',
    'cpu.shares=512', 'cpu.cfs_period_us=100000', 'cpu.cfs_quota_us=20000', 'cpuset.cpus=0',
    'pids.max=max',
  ]);
});

t.test('v1: raising memory+swap above the current one writes it before the limit', async (t) => {
  const dir = tmpCgroup(t, { 'memory.memsw.limit_in_bytes': '1000' });
  const h: CgroupHandle = { layout: 'v1', paths: { memory: dir } };
  const up = await planResources({ memory: { limit: 1500, swap: 3000 } }, new PlanContext(h, 'update'));
  t.same(lines(up), ['memory.memsw.limit_in_bytes=3000', 'memory.limit_in_bytes=1500']);
  const down = await planResources({ memory: { limit: 500, swap: 800 } }, new PlanContext(h, 'update'));
  t.same(lines(down), ['memory.limit_in_bytes=500', 'memory.memsw.limit_in_bytes=800']);
});

t.test('v1: a controller that is not mounted is refused naming the field', async (t) => {
  const dir = tmpCgroup(t);
  const h: CgroupHandle = { layout: 'v1', paths: { memory: dir } };
  await t.rejects(planResources({ pids: { limit: 5 } }, new PlanContext(h, 'create')), { name: 'ConfigError', field: 'linux.resources.pids.limit' });
  await t.rejects(planResources({ network: { classID: 7 } }, new PlanContext(h, 'create')), { name: 'ConfigError', field: 'linux.resources.network.classID' });
});

t.test('v2: converted values, cpu.max, io.max, a BPF program, and the controllers to enable', async (t) => {
  const dir = tmpCgroup(t, { 'memory.max': 'max', 'io.weight': 'default 100', 'memory.high': 'max' });
  const h: CgroupHandle = { layout: 'v2', paths: { unified: dir } };
  const ctx = new PlanContext(h, 'update', new Set(['cpu', 'memory', 'io', 'pids']));
  const steps = await planResources({
    memory: { limit: 100, swap: 300, swappiness: 50 },
    cpu: { shares: 1024, quota: 50000, period: 100000 },
    pids: { limit: 64 },
    blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1024 }] },
    devices: [{ allow: false }],
    unified: { 'memory.high': '90' },
  }, ctx);
  t.same(lines(steps), [
    'bpf:8',
    'memory.max=100', 'memory.swap.max=200',
    'cpu.weight=39', 'cpu.max=50000 100000',
    'pids.max=64',
    'io.weight=4950', 'io.max=8:0 rbps=1024',
    'memory.high=90',
  ], 'swappiness has no v2 file and is dropped');
  t.same([...ctx.enable].sort(), ['cpu', 'io', 'memory', 'pids']);
  await t.rejects(planResources({ hugepageLimits: [{ pageSize: '2MB', limit: 0 }] }, new PlanContext(h, 'update', new Set(['cpu']))),
    { name: 'ConfigError' }, 'hugetlb not available');
  await t.rejects(planResources({ unified: { 'rdma.max': 'x' } }, new PlanContext(h, 'update', new Set(['cpu']))),
    { name: 'ConfigError', field: 'linux.resources.unified["rdma.max"]' });
});

t.test('v1 devices update between allow-lists adds before it removes, never resetting to deny-all', async (t) => {
  const dir = tmpCgroup(t, { 'devices.list': 'c 1:3 rwm\nc 136:* rw\n' });
  const h: CgroupHandle = { layout: 'v1', paths: { devices: dir } };
  const steps = await planResources({
    devices: [{ allow: false }, { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, { allow: true, type: 'c', major: 136, minor: -1, access: 'r' }],
  }, new PlanContext(h, 'update'));
  t.same(lines(steps), [
    'devices.allow=c 1:5 rwm', 'devices.allow=c 136:* r',
    'devices.deny=c 1:3 rwm', 'devices.deny=c 136:* w',
  ]);
  fs.writeFileSync(path.join(dir, 'devices.list'), 'a *:* rwm\n');
  const fromAll = await planResources({ devices: [{ allow: false }] }, new PlanContext(h, 'update'));
  t.same(lines(fromAll), ['devices.deny=a'], 'from allow-all the reset is the only way');
});
