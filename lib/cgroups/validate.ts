// Range and shape checks on linux.resources, run before anything is written so bad input changes nothing.
// What the host supports (controllers, files) is checked while planning, also before any write.
import type { LinuxResources } from '../runtime/spec/types';
import { ConfigError } from '../util/errors';
import { hugePageSizeKb } from './convert';
import type { CgroupLayout } from './types';

const F = 'linux.resources';
const INT64_MAX = 2 ** 63;

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** An optional integer in [min, max]; -1 allowed when `unlimited`. */
function int(v: unknown, field: string, min: number, max: number, unlimited = false): void {
  if (v === undefined || v === null) return;
  if (!isInt(v)) throw new ConfigError(field, `must be an integer, got ${JSON.stringify(v)}`);
  if (unlimited && v === -1) return;
  if (v < min || v > max) {
    const top = max >= INT64_MAX ? '2^63-1' : String(max);
    throw new ConfigError(field, `${v} is out of range [${min}, ${top}]${unlimited ? ' (or -1 for unlimited)' : ''}`);
  }
}

/** cpuset list syntax: "0-3,5,7-8". */
export function checkCpuList(v: unknown, field: string): void {
  if (v === undefined || v === '') return;
  if (typeof v !== 'string' || !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v)) {
    throw new ConfigError(field, `${JSON.stringify(v)} is not a list like "0-3,5"`);
  }
  for (const part of v.split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (b !== undefined && b < a) throw new ConfigError(field, `range "${part}" runs backwards`);
  }
}

function checkDevices(r: LinuxResources): void {
  (r.devices ?? []).forEach((d, i) => {
    const f = `${F}.devices[${i}]`;
    if (typeof d.allow !== 'boolean') throw new ConfigError(`${f}.allow`, 'must be true or false');
    if (d.type !== undefined && !['a', 'b', 'c'].includes(d.type)) {
      throw new ConfigError(`${f}.type`, `unknown device type ${JSON.stringify(d.type)} (a, b or c)`);
    }
    int(d.major, `${f}.major`, 0, 2 ** 32 - 1, true);
    int(d.minor, `${f}.minor`, 0, 2 ** 32 - 1, true);
    if (d.access !== undefined && !/^[rwm]*$/.test(d.access)) {
      throw new ConfigError(`${f}.access`, `${JSON.stringify(d.access)} may only contain r, w and m`);
    }
  });
}

function checkMemory(r: LinuxResources): void {
  const m = r.memory;
  if (!m) return;
  int(m.limit, `${F}.memory.limit`, 1, INT64_MAX, true);
  int(m.reservation, `${F}.memory.reservation`, 0, INT64_MAX, true);
  int(m.swap, `${F}.memory.swap`, 0, INT64_MAX, true);
  int(m.swappiness, `${F}.memory.swappiness`, 0, 100);
  if (m.swap !== undefined && m.swap > 0 && m.limit !== undefined && m.limit > 0 && m.swap < m.limit) {
    throw new ConfigError(`${F}.memory.swap`, `memory+swap (${m.swap}) must be at least memory.limit (${m.limit})`);
  }
  if (m.swap !== undefined && m.swap > 0 && m.limit === 0) {
    throw new ConfigError(`${F}.memory.swap`, 'a swap limit needs a memory limit');
  }
}

function checkCpu(r: LinuxResources, layout: CgroupLayout): void {
  const c = r.cpu;
  if (!c) return;
  if (c.shares !== 0) int(c.shares, `${F}.cpu.shares`, 2, 262144);
  // the kernel's CFS bounds: quota at least 1 ms, period between 1 ms and 1 s
  if (c.quota !== 0) int(c.quota, `${F}.cpu.quota`, 1000, INT64_MAX, true);
  if (c.period !== 0) int(c.period, `${F}.cpu.period`, 1000, 1_000_000);
  int(c.burst, `${F}.cpu.burst`, 0, INT64_MAX);
  if (c.burst && c.quota !== undefined && c.quota > 0 && c.burst > c.quota) {
    throw new ConfigError(`${F}.cpu.burst`, `${c.burst} exceeds cpu.quota (${c.quota})`);
  }
  int(c.realtimeRuntime, `${F}.cpu.realtimeRuntime`, -1, INT64_MAX);
  int(c.realtimePeriod, `${F}.cpu.realtimePeriod`, 0, INT64_MAX);
  if (layout === 'v2' && (c.realtimeRuntime || c.realtimePeriod)) {
    throw new ConfigError(`${F}.cpu.realtimeRuntime`, 'realtime scheduling limits are not supported on cgroup v2');
  }
  int(c.idle, `${F}.cpu.idle`, 0, 1);
  checkCpuList(c.cpus, `${F}.cpu.cpus`);
  checkCpuList(c.mems, `${F}.cpu.mems`);
}

function checkBlockIO(r: LinuxResources): void {
  const b = r.blockIO;
  if (!b) return;
  if (b.weight !== 0) int(b.weight, `${F}.blockIO.weight`, 10, 1000);
  if (b.leafWeight !== 0) int(b.leafWeight, `${F}.blockIO.leafWeight`, 10, 1000);
  (b.weightDevice ?? []).forEach((d, i) => {
    const f = `${F}.blockIO.weightDevice[${i}]`;
    int(d.major, `${f}.major`, 0, 2 ** 32 - 1);
    int(d.minor, `${f}.minor`, 0, 2 ** 32 - 1);
    if (d.weight !== 0) int(d.weight, `${f}.weight`, 10, 1000);
    if (d.leafWeight !== 0) int(d.leafWeight, `${f}.leafWeight`, 10, 1000);
  });
  for (const key of ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'] as const) {
    (b[key] ?? []).forEach((d, i) => {
      const f = `${F}.blockIO.${key}[${i}]`;
      int(d.major, `${f}.major`, 0, 2 ** 32 - 1);
      int(d.minor, `${f}.minor`, 0, 2 ** 32 - 1);
      if (d.rate === undefined) throw new ConfigError(`${f}.rate`, 'is required');
      int(d.rate, `${f}.rate`, 0, INT64_MAX);
    });
  }
}

function checkOthers(r: LinuxResources, layout: CgroupLayout): void {
  if (r.pids) {
    if (r.pids.limit === undefined) throw new ConfigError(`${F}.pids.limit`, 'is required');
    int(r.pids.limit, `${F}.pids.limit`, 0, INT64_MAX, true);
  }
  (r.hugepageLimits ?? []).forEach((h, i) => {
    if (typeof h.pageSize !== 'string' || hugePageSizeKb(h.pageSize) === undefined) {
      throw new ConfigError(`${F}.hugepageLimits[${i}].pageSize`, `${JSON.stringify(h.pageSize)} is not a size like "2MB"`);
    }
    int(h.limit, `${F}.hugepageLimits[${i}].limit`, 0, INT64_MAX);
  });
  if (r.network) {
    int(r.network.classID, `${F}.network.classID`, 0, 2 ** 32 - 1);
    (r.network.priorities ?? []).forEach((p, i) => {
      if (typeof p.name !== 'string' || !/^[^\s/]+$/.test(p.name)) {
        throw new ConfigError(`${F}.network.priorities[${i}].name`, `${JSON.stringify(p.name)} is not an interface name`);
      }
      int(p.priority, `${F}.network.priorities[${i}].priority`, 0, 2 ** 32 - 1);
    });
  }
  for (const [dev, l] of Object.entries(r.rdma ?? {})) {
    if (!/^[^\s=]+$/.test(dev)) throw new ConfigError(`${F}.rdma`, `${JSON.stringify(dev)} is not a device name`);
    int(l.hcaHandles, `${F}.rdma.${dev}.hcaHandles`, 0, 2 ** 31 - 1);
    int(l.hcaObjects, `${F}.rdma.${dev}.hcaObjects`, 0, 2 ** 31 - 1);
  }
  if (r.unified && Object.keys(r.unified).length > 0) {
    if (layout === 'v1') throw new ConfigError(`${F}.unified`, 'needs cgroup v2, and this host has only v1 hierarchies');
    for (const [k, v] of Object.entries(r.unified)) {
      if (!/^[a-z_]+\.[A-Za-z0-9_.]+$/.test(k) || k.includes('..')) {
        throw new ConfigError(`${F}.unified["${k}"]`, 'is not a cgroup file name like "memory.high"');
      }
      if (['cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control', 'cgroup.kill', 'cgroup.freeze'].includes(k)) {
        throw new ConfigError(`${F}.unified["${k}"]`, 'is managed by the runtime, not a resource');
      }
      if (typeof v !== 'string') throw new ConfigError(`${F}.unified["${k}"]`, 'value must be a string');
    }
  }
}

/** Throws a ConfigError naming the first bad field; returns normally when every value is in range. */
export function validateResources(r: LinuxResources, layout: CgroupLayout): void {
  if (typeof r !== 'object' || r === null) throw new ConfigError(F, 'must be an object');
  checkDevices(r);
  checkMemory(r);
  checkCpu(r, layout);
  checkBlockIO(r);
  checkOthers(r, layout);
}
