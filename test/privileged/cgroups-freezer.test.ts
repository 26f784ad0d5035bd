import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freeze, isFrozen, killAll, listPids, thaw } from '../../lib/cgroups';
import { runIn, sleep, testCgroup, waitFor } from './cgroups-fixture';

function counterFile(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-freezer-'));
  // the counter may still be writing while it dies: retry instead of failing the teardown
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 50 }));
  return path.join(dir, 'count');
}

const read = (f: string): number => Number(fs.readFileSync(f, 'utf8').trim() || 0);

t.test('a frozen counter makes no progress and resumes after thaw', async (t) => {
  const f = counterFile(t);
  const h = await testCgroup(t, 'freezer', {});
  fs.writeFileSync(f, '0');
  // builtins only (no fork per step), so it also counts quickly under emulation
  await runIn(t, h, `i=0; while :; do i=$((i+1)); echo $i > ${f}; done`);
  t.ok(await waitFor(() => read(f) > 10, 10000), 'the counter runs');
  t.equal(await isFrozen(h), false);
  await freeze(h);
  t.equal(await isFrozen(h), true, 'frozen');
  const a = read(f);
  await sleep(300);
  t.equal(read(f), a, 'no progress while frozen');
  await thaw(h);
  t.equal(await isFrozen(h), false, 'thawed');
  t.ok(await waitFor(() => read(f) > a + 3, 10000), 'progress after thaw');
});

t.test('killAll signals every process, including forked ones, and listPids sees them first', async (t) => {
  const h = await testCgroup(t, 'kill', {});
  await runIn(t, h, "sleep 30 & sleep 30 & sh -c 'sleep 30 & wait' & wait");
  t.ok(await waitFor(async () => (await listPids(h)).length === 5), 'shell, two sleeps, a child shell and its sleep');
  await killAll(h, 15); // SIGTERM: the freeze, signal, thaw path
  t.ok(await waitFor(async () => (await listPids(h)).length === 0, 3000), 'all gone after SIGTERM');
  await runIn(t, h, 'sleep 30 & sleep 30 & wait');
  t.ok(await waitFor(async () => (await listPids(h)).length === 3));
  await killAll(h, 9); // SIGKILL: cgroup.kill where the v2 tree has it
  t.ok(await waitFor(async () => (await listPids(h)).length === 0, 3000), 'all gone after SIGKILL');
});
