// Resource usage in runc's `events --stats` shape, read from v1 controllers or the v2 tree.
import * as fsp from '../util/fs-async';
import { parseFlatKeyed, parseNumber, readOptional } from './files';
import type { BlkioEntry, CgroupHandle, CgroupStats, MemoryEntry } from './types';

const USER_HZ = 100; // cpuacct.stat counts in clock ticks; every Linux ABI fixes USER_HZ at 100
const NS_PER_TICK = 1e9 / USER_HZ;

function emptyStats(): CgroupStats {
  const mem = (): MemoryEntry => ({ usage: 0, max: 0, limit: 0, failcnt: 0 });
  return {
    cpu: {
      usage: { total: 0, percpu: [], percpu_kernel: [], percpu_user: [], kernel: 0, user: 0 },
      throttling: { periods: 0, throttledPeriods: 0, throttledTime: 0 },
    },
    memory: { cache: 0, usage: mem(), swap: mem(), kernel: mem(), kernelTCP: mem(), raw: {} },
    pids: { current: 0, limit: 0 },
    blkio: {
      ioServiceBytesRecursive: [], ioServicedRecursive: [], ioQueuedRecursive: [], ioServiceTimeRecursive: [],
      ioWaitTimeRecursive: [], ioMergedRecursive: [], ioTimeRecursive: [], sectorsRecursive: [],
    },
    hugetlb: {},
  };
}

const numbers = (text: string | undefined): number[] => (text ?? '').trim().split(/\s+/).filter(Boolean).map(Number);

/** v1 blkio files: "8:0 Read 4096" lines (a trailing "Total" line has no device). */
export function parseBlkioV1(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (\S+) (\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3], value: Number(m[4]) });
  }
  return out;
}

/** v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" -> runc's bytes and serviced lists. */
export function parseIoStat(text: string | undefined): { bytes: BlkioEntry[]; serviced: BlkioEntry[] } {
  const bytes: BlkioEntry[] = [];
  const serviced: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const [dev, ...kv] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const [major, minor] = [Number(m[1]), Number(m[2])];
    const v = Object.fromEntries(kv.map((p) => p.split('=')).map(([k, n]) => [k, Number(n)]));
    bytes.push({ major, minor, op: 'Read', value: v.rbytes ?? 0 }, { major, minor, op: 'Write', value: v.wbytes ?? 0 });
    serviced.push({ major, minor, op: 'Read', value: v.rios ?? 0 }, { major, minor, op: 'Write', value: v.wios ?? 0 });
  }
  return { bytes, serviced };
}

async function memEntry(dir: string, prefix: string): Promise<MemoryEntry> {
  return {
    usage: parseNumber(await readOptional(dir, `${prefix}.usage_in_bytes`)),
    max: parseNumber(await readOptional(dir, `${prefix}.max_usage_in_bytes`)),
    limit: parseNumber(await readOptional(dir, `${prefix}.limit_in_bytes`)),
    failcnt: parseNumber(await readOptional(dir, `${prefix}.failcnt`)),
  };
}

async function hugetlbSizes(): Promise<string[]> {
  const dirs = await fsp.readdir('/sys/kernel/mm/hugepages').catch(() => [] as string[]);
  return dirs.map((d) => Number(/(\d+)kB/.exec(d)?.[1] ?? 0)).filter((kb) => kb > 0)
    .map((kb) => (kb >= 1 << 20 ? `${kb >> 20}GB` : kb >= 1024 ? `${kb >> 10}MB` : `${kb}KB`));
}

async function v1Stats(h: CgroupHandle, s: CgroupStats): Promise<void> {
  const p = h.paths;
  if (p.cpuacct) {
    s.cpu.usage.total = parseNumber(await readOptional(p.cpuacct, 'cpuacct.usage'));
    s.cpu.usage.percpu = numbers(await readOptional(p.cpuacct, 'cpuacct.usage_percpu'));
    s.cpu.usage.percpu_kernel = numbers(await readOptional(p.cpuacct, 'cpuacct.usage_percpu_sys'));
    s.cpu.usage.percpu_user = numbers(await readOptional(p.cpuacct, 'cpuacct.usage_percpu_user'));
    const st = parseFlatKeyed(await readOptional(p.cpuacct, 'cpuacct.stat'));
    s.cpu.usage.user = (st.user ?? 0) * NS_PER_TICK;
    s.cpu.usage.kernel = (st.system ?? 0) * NS_PER_TICK;
  }
  if (p.cpu) {
    const st = parseFlatKeyed(await readOptional(p.cpu, 'cpu.stat'));
    s.cpu.throttling = { periods: st.nr_periods ?? 0, throttledPeriods: st.nr_throttled ?? 0, throttledTime: st.throttled_time ?? 0 };
  }
  if (p.memory) {
    s.memory.usage = await memEntry(p.memory, 'memory');
    s.memory.swap = await memEntry(p.memory, 'memory.memsw');
    s.memory.kernel = await memEntry(p.memory, 'memory.kmem');
    s.memory.kernelTCP = await memEntry(p.memory, 'memory.kmem.tcp');
    s.memory.raw = parseFlatKeyed(await readOptional(p.memory, 'memory.stat'));
    s.memory.cache = s.memory.raw.total_cache ?? s.memory.raw.cache ?? 0;
  }
  if (p.pids) {
    s.pids.current = parseNumber(await readOptional(p.pids, 'pids.current'));
    s.pids.limit = parseNumber(await readOptional(p.pids, 'pids.max'));
  }
  if (p.blkio) {
    // the throttle files count every I/O; the scheduler's own (cfq/bfq) files exist only with that scheduler
    s.blkio.ioServiceBytesRecursive = parseBlkioV1(await readOptional(p.blkio, 'blkio.throttle.io_service_bytes_recursive'));
    s.blkio.ioServicedRecursive = parseBlkioV1(await readOptional(p.blkio, 'blkio.throttle.io_serviced_recursive'));
  }
  if (p.hugetlb) {
    for (const size of await hugetlbSizes()) {
      s.hugetlb[size] = {
        usage: parseNumber(await readOptional(p.hugetlb, `hugetlb.${size}.usage_in_bytes`)),
        max: parseNumber(await readOptional(p.hugetlb, `hugetlb.${size}.max_usage_in_bytes`)),
        failcnt: parseNumber(await readOptional(p.hugetlb, `hugetlb.${size}.failcnt`)),
      };
    }
  }
}

async function v2Stats(dir: string, s: CgroupStats, only?: Set<string>): Promise<void> {
  const want = (c: string): boolean => !only || only.has(c);
  if (want('cpu')) {
    const st = parseFlatKeyed(await readOptional(dir, 'cpu.stat'));
    s.cpu.usage.total = (st.usage_usec ?? 0) * 1000;
    s.cpu.usage.user = (st.user_usec ?? 0) * 1000;
    s.cpu.usage.kernel = (st.system_usec ?? 0) * 1000;
    s.cpu.throttling = { periods: st.nr_periods ?? 0, throttledPeriods: st.nr_throttled ?? 0, throttledTime: (st.throttled_usec ?? 0) * 1000 };
  }
  if (want('memory')) {
    const events = parseFlatKeyed(await readOptional(dir, 'memory.events'));
    s.memory.raw = parseFlatKeyed(await readOptional(dir, 'memory.stat'));
    s.memory.cache = s.memory.raw.file ?? 0;
    s.memory.usage = {
      usage: parseNumber(await readOptional(dir, 'memory.current')),
      max: parseNumber(await readOptional(dir, 'memory.peak')),
      limit: parseNumber(await readOptional(dir, 'memory.max'), Number.MAX_SAFE_INTEGER),
      failcnt: events.max ?? 0,
    };
    s.memory.swap = {
      usage: parseNumber(await readOptional(dir, 'memory.swap.current')),
      max: parseNumber(await readOptional(dir, 'memory.swap.peak')),
      limit: parseNumber(await readOptional(dir, 'memory.swap.max'), Number.MAX_SAFE_INTEGER),
      failcnt: 0,
    };
  }
  if (want('pids')) {
    s.pids.current = parseNumber(await readOptional(dir, 'pids.current'));
    s.pids.limit = parseNumber(await readOptional(dir, 'pids.max'));
  }
  if (want('io')) {
    const io = parseIoStat(await readOptional(dir, 'io.stat'));
    s.blkio.ioServiceBytesRecursive = io.bytes;
    s.blkio.ioServicedRecursive = io.serviced;
  }
  if (want('hugetlb')) {
    for (const size of await hugetlbSizes()) {
      const current = await readOptional(dir, `hugetlb.${size}.current`);
      if (current === undefined) continue;
      s.hugetlb[size] = {
        usage: parseNumber(current),
        max: parseNumber(await readOptional(dir, `hugetlb.${size}.max`)),
        failcnt: parseFlatKeyed(await readOptional(dir, `hugetlb.${size}.events`)).max ?? 0,
      };
    }
  }
}

export async function stats(h: CgroupHandle): Promise<CgroupStats> {
  const s = emptyStats();
  if (h.layout === 'v2') {
    await v2Stats(h.paths.unified, s);
    return s;
  }
  await v1Stats(h, s);
  // hybrid: controllers missing from v1 (hugetlb on this kind of host) report from the v2 tree
  if (h.layout === 'hybrid' && h.paths.unified && !h.paths.hugetlb) await v2Stats(h.paths.unified, s, new Set(['hugetlb']));
  return s;
}
