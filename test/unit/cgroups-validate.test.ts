import t from 'tap';
import { validateResources } from '../../lib/cgroups/validate';
import type { LinuxResources } from '../../lib/runtime/spec/types';

const BAD: [LinuxResources, string][] = [
  [{ memory: { limit: -2 } }, 'linux.resources.memory.limit'],
  [{ memory: { limit: 1.5 } }, 'linux.resources.memory.limit'],
  [{ memory: { limit: 'lots' as unknown as number } }, 'linux.resources.memory.limit'],
  [{ memory: { limit: 100, swap: 50 } }, 'linux.resources.memory.swap'],
  [{ memory: { swappiness: 101 } }, 'linux.resources.memory.swappiness'],
  [{ cpu: { shares: 1 } }, 'linux.resources.cpu.shares'],
  [{ cpu: { quota: 10 } }, 'linux.resources.cpu.quota'],
  [{ cpu: { period: 2_000_000 } }, 'linux.resources.cpu.period'],
  [{ cpu: { quota: 10000, burst: 20000 } }, 'linux.resources.cpu.burst'],
  [{ cpu: { cpus: '3-1' } }, 'linux.resources.cpu.cpus'],
  [{ cpu: { mems: 'all' } }, 'linux.resources.cpu.mems'],
  [{ cpu: { idle: 2 } }, 'linux.resources.cpu.idle'],
  [{ pids: { limit: -7 } }, 'linux.resources.pids.limit'],
  [{ blockIO: { weight: 5 } }, 'linux.resources.blockIO.weight'],
  [{ blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: -1 }] } }, 'linux.resources.blockIO.throttleReadBpsDevice[0].rate'],
  [{ devices: [{ allow: true, type: 'p' as 'c' }] }, 'linux.resources.devices[0].type'],
  [{ devices: [{ allow: true }, { allow: true, access: 'rx' }] }, 'linux.resources.devices[1].access'],
  [{ devices: [{ allow: 'yes' as unknown as boolean }] }, 'linux.resources.devices[0].allow'],
  [{ hugepageLimits: [{ pageSize: '2 MB', limit: 0 }] }, 'linux.resources.hugepageLimits[0].pageSize'],
  [{ network: { priorities: [{ name: 'eth 0', priority: 1 }] } }, 'linux.resources.network.priorities[0].name'],
  [{ unified: { '../../etc/passwd': 'x' } }, 'linux.resources.unified["../../etc/passwd"]'],
  [{ unified: { 'cgroup.procs': '1' } }, 'linux.resources.unified["cgroup.procs"]'],
];

t.test('each out-of-range value is refused with its field named', async (t) => {
  for (const [r, field] of BAD) {
    t.throws(() => validateResources(r, 'v2'), { name: 'ConfigError', field }, field);
  }
});

t.test('layout-specific refusals', async (t) => {
  t.throws(() => validateResources({ unified: { 'memory.high': '1G' } }, 'v1'), { name: 'ConfigError', field: 'linux.resources.unified' });
  t.doesNotThrow(() => validateResources({ unified: { 'memory.high': '1G' } }, 'v2'));
  t.throws(() => validateResources({ cpu: { realtimeRuntime: 1000 } }, 'v2'), { name: 'ConfigError', field: 'linux.resources.cpu.realtimeRuntime' });
  t.doesNotThrow(() => validateResources({ cpu: { realtimeRuntime: 1000 } }, 'v1'));
});

t.test('typical container resources pass', async (t) => {
  const r: LinuxResources = {
    devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: true, type: 'c', major: null, minor: null, access: 'm' }],
    memory: { limit: 512 << 20, reservation: 256 << 20, swap: -1, swappiness: 60, disableOOMKiller: false },
    cpu: { shares: 1024, quota: -1, period: 100000, cpus: '0-1', mems: '0' },
    pids: { limit: -1 },
    blockIO: { weight: 500, throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 1 << 20 }] },
    hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
  };
  t.doesNotThrow(() => validateResources(r, 'v1'));
  t.doesNotThrow(() => validateResources({}, 'hybrid'));
});
