// The CLI's lifecycle commands load from dist/cli/lifecycle.js (scripts/bundle.js) while it is fresh, with
// a code cache per command, else from tsc's output (lib/runtime/cli/main.ts): the answers are the same.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { freshness, inputsOf } from '../../lib/util/bundle';

const BERTH = path.resolve(__dirname, '../../../bin/berth');
const BUNDLE = path.resolve(__dirname, '../../cli/lifecycle.js');

t.test('lifecycle commands answer through the bundle when it is fresh, and name what is missing', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-clibundle-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const mtime = freshness(BUNDLE, inputsOf(BUNDLE));
  for (const cmd of ['ps', 'delete', 'kill', 'start']) {
    const r = spawnSync(BERTH, ['--root', root, cmd, 'no-such-container'], { encoding: 'utf8' });
    t.equal(r.status, 1, `${cmd} fails`);
    t.match(r.stderr, /container "no-such-container" does not exist/, `${cmd}: ${r.stderr.trim()}`);
    if (mtime !== undefined) {
      const cache = `${BUNDLE.slice(0, -3)}.${cmd}.${Math.floor(mtime)}.v8cache`;
      t.ok(fs.existsSync(cache), `${cmd} ran from the bundle (its code cache exists)`);
    }
  }
  t.comment(mtime === undefined ? 'the bundle is missing or stale: tsc output was used' : 'the bundle is fresh');
});
