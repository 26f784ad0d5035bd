import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stats } from '../../lib/cgroups';
import { parseBlkioV1, parseIoStat } from '../../lib/cgroups/stats';

function fakeCgroup(t: { teardown(fn: () => void): void }, files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-stats-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [f, v] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), v);
  return dir;
}

t.test('blkio and io.stat lines become runc entries', async (t) => {
  t.same(parseBlkioV1('254:0 Read 4096\n254:0 Write 8192\nTotal 12288\n'), [
    { major: 254, minor: 0, op: 'Read', value: 4096 }, { major: 254, minor: 0, op: 'Write', value: 8192 },
  ]);
  const io = parseIoStat('8:16 rbytes=100 wbytes=200 rios=3 wios=4 dbytes=0 dios=0\n');
  t.same(io.bytes, [{ major: 8, minor: 16, op: 'Read', value: 100 }, { major: 8, minor: 16, op: 'Write', value: 200 }]);
  t.same(io.serviced.map((e) => e.value), [3, 4]);
});

t.test('v1 stats read each controller and convert ticks to nanoseconds', async (t) => {
  const dir = fakeCgroup(t, {
    'cpuacct.usage': '5000000000\n', 'cpuacct.usage_percpu': '3000000000 2000000000 \n', 'cpuacct.stat': 'user 300\nsystem 100\n',
    'cpu.stat': 'nr_periods 10\nnr_throttled 4\nthrottled_time 123\n',
    'memory.usage_in_bytes': '1048576', 'memory.max_usage_in_bytes': '2097152', 'memory.limit_in_bytes': '4194304', 'memory.failcnt': '2',
    'memory.stat': 'cache 4096\nrss 8192\ntotal_cache 4096\n', 'pids.current': '3', 'pids.max': 'max',
  });
  const s = await stats({ layout: 'v1', paths: { cpu: dir, cpuacct: dir, memory: dir, pids: dir } });
  t.same(s.cpu.usage, { total: 5e9, percpu: [3e9, 2e9], percpu_kernel: [], percpu_user: [], user: 3e9, kernel: 1e9 });
  t.same(s.cpu.throttling, { periods: 10, throttledPeriods: 4, throttledTime: 123 });
  t.same(s.memory.usage, { usage: 1048576, max: 2097152, limit: 4194304, failcnt: 2 });
  t.equal(s.memory.raw.rss, 8192);
  t.equal(s.memory.cache, 4096);
  t.same(s.pids, { current: 3, limit: 0 }, '"max" reads as 0, as runc reports it');
});

t.test('v2 stats read the unified files', async (t) => {
  const dir = fakeCgroup(t, {
    'cpu.stat': 'usage_usec 2000\nuser_usec 1500\nsystem_usec 500\nnr_periods 7\nnr_throttled 1\nthrottled_usec 9\n',
    'memory.current': '4096', 'memory.peak': '8192', 'memory.max': '16384', 'memory.events': 'low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n',
    'memory.stat': 'anon 100\nfile 200\n', 'pids.current': '1', 'pids.max': '10', 'io.stat': '8:0 rbytes=1 wbytes=2 rios=3 wios=4\n',
  });
  const s = await stats({ layout: 'v2', paths: { unified: dir } });
  t.same(s.cpu.usage.total, 2e6);
  t.same(s.cpu.throttling, { periods: 7, throttledPeriods: 1, throttledTime: 9000 });
  t.same(s.memory.usage, { usage: 4096, max: 8192, limit: 16384, failcnt: 5 });
  t.equal(s.memory.cache, 200);
  t.same(s.pids, { current: 1, limit: 10 });
  t.equal(s.blkio.ioServiceBytesRecursive.length, 2);
});
