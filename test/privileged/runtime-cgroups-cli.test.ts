// The cgroup side of the command line: events --stats in runc's shape with numbers that move, update of a
// live container, oom events, and limits from config.json enforced by the kernel.
import t from 'tap';
import * as fs from 'node:fs';
import { berth, bundle } from '../helpers/run';
import { uniqueId } from '../helpers/bundle';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup(t: { teardown(fn: () => unknown): void }, args: string[], edit?: Parameters<typeof bundle>[1]) {
  const b = bundle(args, edit);
  const id = uniqueId('cg');
  const g = ['--root', b.root];
  t.teardown(async () => { await berth([...g, 'delete', '--force', id]); b.cleanup(); });
  return { b, id, g };
}

t.test('events --stats prints runc\'s stats JSON, and the numbers move when the container works', async (t) => {
  const { b, id, g } = setup(t, ['/bin/sh', '-c', 'while true; do :; done'], (s) => { s.linux!.resources = { ...s.linux!.resources, pids: { limit: 50 }, memory: { limit: 64 * 1024 * 1024 } }; });
  t.equal((await berth([...g, 'run', '-d', '--bundle', b.dir, id])).code, 0);
  const first = JSON.parse((await berth([...g, 'events', '--stats', id])).stdout);
  await sleep(500);
  const second = JSON.parse((await berth([...g, 'events', '--stats', id])).stdout);
  t.equal(first.type, 'stats');
  t.equal(first.id, id);
  for (const key of ['cpu', 'memory', 'pids', 'blkio', 'hugetlb']) t.ok(key in first.data, `data.${key}`);
  t.type(first.data.cpu.usage.total, 'number');
  t.ok(second.data.cpu.usage.total > first.data.cpu.usage.total, `cpu usage grows (${first.data.cpu.usage.total} -> ${second.data.cpu.usage.total})`);
  t.equal(first.data.pids.current, 1);
  t.equal(first.data.pids.limit, 50);
  t.equal(first.data.memory.usage.limit, 64 * 1024 * 1024);
  t.ok(first.data.memory.usage.usage > 0);
});

t.test('update changes a running container\'s limits; bad values are refused and change nothing', async (t) => {
  const { b, id, g } = setup(t, ['/bin/sleep', '1000']);
  t.equal((await berth([...g, 'run', '-d', '--bundle', b.dir, id])).code, 0);
  t.equal((await berth([...g, 'update', '--pids-limit', '20', '--memory', '100m', id])).code, 0);
  let st = JSON.parse((await berth([...g, 'events', '--stats', id])).stdout);
  t.equal(st.data.pids.limit, 20);
  t.equal(st.data.memory.usage.limit, 100 * 1024 * 1024);
  const viaJson = await berth([...g, 'update', '--resources', '-', id], JSON.stringify({ pids: { limit: 30 } }));
  t.equal(viaJson.code, 0, viaJson.stderr);
  st = JSON.parse((await berth([...g, 'events', '--stats', id])).stdout);
  t.equal(st.data.pids.limit, 30);
  const bad = await berth([...g, 'update', '--resources', '-', id], JSON.stringify({ pids: { limit: 40 }, memory: { limit: -5 } }));
  t.equal(bad.code, 1);
  t.match(bad.stderr, /linux\.resources\.memory\.limit/);
  st = JSON.parse((await berth([...g, 'events', '--stats', id])).stdout);
  t.equal(st.data.pids.limit, 30, 'the valid part was not applied either');
});

t.test('a memory limit from config.json is enforced: the container is OOM-killed and events reports it', async (t) => {
  const gate = `go-${process.pid}-${Date.now()}`;
  // the container allocates only once `events` is watching: an OOM before that would go unseen
  const { b, id, g } = setup(t, ['/bin/sh', '-c', `while [ ! -e /tmp/${gate} ]; do usleep 20000; done; x=a; while true; do x=$x$x; done`], (s) => {
    s.linux!.resources = { ...s.linux!.resources, memory: { limit: 16 * 1024 * 1024, swap: 16 * 1024 * 1024 } };
  });
  const gateFile = `${b.spec.root!.path}/tmp/${gate}`;
  t.teardown(() => fs.rmSync(gateFile, { force: true }));
  t.equal((await berth([...g, 'run', '-d', '--bundle', b.dir, id])).code, 0);
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  const { BERTH } = require('../helpers/run') as typeof import('../helpers/run');
  const child = spawn(BERTH, [...g, 'events', '--interval', '0.2', id], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  const timer = setTimeout(() => child.kill(), 30_000);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  child.stdout!.on('data', (d) => {
    out += d;
    if (!fs.existsSync(gateFile) && out.includes('"type":"stats"')) fs.writeFileSync(gateFile, '');
  });
  await exited;
  clearTimeout(timer);
  const lines = out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  t.ok(lines.some((e) => e.type === 'stats'), 'stats while it ran');
  t.ok(lines.some((e) => e.type === 'oom' && e.id === id), 'an oom event was reported');
  const st = JSON.parse((await berth([...g, 'state', id])).stdout);
  t.equal(st.status, 'stopped', 'the container was killed');
});
