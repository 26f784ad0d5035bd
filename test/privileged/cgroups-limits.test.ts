import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listPids, stats, watchOom } from '../../lib/cgroups';
import { oomKillCount } from '../../lib/cgroups/oom';
import { runIn, sleep, testCgroup, waitFor, within } from './cgroups-fixture';

const MB = 1 << 20;

t.test('a process over its memory limit is OOM-killed and the OOM is observed', async (t) => {
  const h = await testCgroup(t, 'oom', { memory: { limit: 32 * MB, swap: 32 * MB } });
  let ooms = 0;
  const stop = watchOom(h, () => ooms++, 50);
  t.teardown(stop);
  await sleep(100); // let the watcher read its baseline
  // awk doubles a string until it cannot: about 64 MB is reached within a second
  const p = await runIn(t, h, `exec awk 'BEGIN { s = "x"; while (1) s = s s }'`);
  const result = await within(p.exited, 20000);
  t.same(result, { code: null, signal: 'SIGKILL' }, 'killed by the kernel');
  t.ok(await waitFor(() => ooms > 0, 2000), `watchOom fired (${ooms})`);
  t.ok(((await oomKillCount(h)) ?? 0) >= 1, 'oom_kill counter moved');
  const s = await stats(h);
  t.equal(s.memory.usage.limit, 32 * MB);
  // kernel 6.x no longer counts v1 memory.failcnt, so check the peak reached the limit instead
  t.ok(s.memory.usage.max >= 30 * MB && s.memory.usage.max <= 32 * MB, `peak usage ${s.memory.usage.max} at the limit`);
});

t.test('pids.max stops a fork bomb at the limit', async (t) => {
  const limit = 8;
  const h = await testCgroup(t, 'pids', { pids: { limit } });
  // bounded: at most 40 forks, each child sleeps; forks beyond the limit fail with EAGAIN
  const p = await runIn(t, h, 'i=0; while [ $i -lt 40 ]; do (exec sleep 30) 2>/dev/null & i=$((i+1)); done; wait');
  const pidsDir = h.paths.pids ?? h.paths.unified;
  const refused = async (): Promise<number> => Number(/^max (\d+)/m.exec(fs.readFileSync(path.join(pidsDir, 'pids.events'), 'utf8'))?.[1] ?? 0);
  t.ok(await waitFor(async () => (await refused()) > 0, 5000), 'the kernel refused forks (pids.events max)');
  const pids = await listPids(h);
  t.ok(pids.length <= limit, `${pids.length} processes, limit ${limit}`);
  t.ok(pids.length >= 2, 'some forks did succeed');
  const s = await stats(h);
  t.ok(s.pids.current <= limit && s.pids.current > 0, `pids.current ${s.pids.current}`);
  t.equal(s.pids.limit, limit);
  void p;
});

t.test('a cpu quota of 0.2 CPU holds a busy loop near 20%', async (t) => {
  const h = await testCgroup(t, 'cpu', { cpu: { quota: 20000, period: 100000 } });
  // one file read, bracketed by the clock: stats() reads many files, which takes long under emulation
  const usageNs = (): number => h.paths.cpuacct
    ? Number(fs.readFileSync(path.join(h.paths.cpuacct, 'cpuacct.usage'), 'utf8'))
    : Number(/^usage_usec (\d+)/m.exec(fs.readFileSync(path.join(h.paths.unified, 'cpu.stat'), 'utf8'))?.[1]) * 1000;
  await runIn(t, h, 'while :; do :; done');
  await sleep(200); // let it settle into the quota
  const start = process.hrtime.bigint();
  const before = usageNs();
  await sleep(1000);
  const used = usageNs() - before;
  const wall = Number(process.hrtime.bigint() - start);
  const share = used / wall;
  t.ok(share > 0.1 && share < 0.35, `busy loop got ${(share * 100).toFixed(1)}% of one CPU`);
  const s = await stats(h);
  t.ok(s.cpu.throttling.throttledPeriods > 0, `throttled in ${s.cpu.throttling.throttledPeriods} periods`);
});

t.test('stats move when the process works', async (t) => {
  const h = await testCgroup(t, 'stats', {});
  const s0 = await stats(h);
  t.equal(s0.cpu.usage.total, 0, 'a new cgroup has used no CPU');
  const p = await runIn(t, h, `awk 'BEGIN { s = "x"; for (i = 0; i < 24; i++) s = s s; t = 0; while (t < 3000000) t++; print length(s) }'; sleep 30`);
  t.ok(await waitFor(() => p.output().includes('16777216'), 10000), 'the worker finished its work');
  const s1 = await stats(h);
  t.ok(s1.cpu.usage.total > 50e6, `cpu total ${s1.cpu.usage.total} ns`);
  t.ok(s1.cpu.usage.user > 0, `user ${s1.cpu.usage.user} ns`);
  t.ok(s1.memory.usage.max > 16 * MB, `peak memory ${s1.memory.usage.max}`);
  t.equal(s1.pids.current, 2, 'the shell and its sleep');
});
