// 200 calls at once through one `berth serve` (issue 13): each gets its own answer on its own descriptors.
import t from 'tap';
import * as fs from 'node:fs';
import * as c from '../../lib/runtime/container';
import { bundle } from '../helpers/run';
import { call, exitStatus } from '../helpers/serve-client';
import { startServer, tempRoot } from '../helpers/serve-process';

t.test('200 concurrent requests all answer correctly', async (t) => {
  const root = tempRoot('conc');
  const b = bundle(['sleep', '30']);
  const s = await startServer(root);
  t.teardown(async () => {
    for (const id of ['cc0', 'cc1']) await c.del(id, { root, force: true }).catch(() => undefined);
    await s.stop();
    b.cleanup();
    fs.rmSync(root, { recursive: true, force: true });
  });
  await c.create({ id: 'cc0', root, bundle: b.dir });
  await c.create({ id: 'cc1', root, bundle: b.dir });
  const jobs = Array.from({ length: 200 }, (_, i) => {
    switch (i % 4) {
      case 0: return { want: (o: string) => JSON.parse(o).id === `cc${(i >> 2) % 2}`, opts: { argv: ['--root', root, 'state', `cc${(i >> 2) % 2}`] } };
      case 1: return { want: (o: string) => o === 'cc0\ncc1\n', opts: { argv: ['--root', root, 'list', '-q'] } };
      case 2: return { want: (o: string) => JSON.parse(o).cniVersion === '1.1.0', opts: { program: 'berth-ipam', argv: [], env: { CNI_COMMAND: 'VERSION' } } };
      default: return { want: (o: string) => o === '', status: 1, opts: { argv: ['--root', root, 'state', `missing-${i}`] } };
    }
  });
  const results = await Promise.all(jobs.map((j) => call(root, j.opts)));
  let right = 0;
  for (const [i, r] of results.entries()) {
    const j = jobs[i];
    const ok = r.reply?.type === 'exit' && exitStatus(r) === (j.status ?? 0) && j.want(r.stdout)
      && (j.status ? r.stderr === `berth: container "missing-${i}" does not exist\n` : r.stderr === '');
    if (ok) right++;
    else t.fail(`request ${i}: ${JSON.stringify(r)}`);
  }
  t.equal(right, 200, 'every request got its own, correct answer');
});
