// How bin/berth-<plugin> starts (lib/cni/plugins/launch.ts): from its bundle while that is fresh, through
// a per-verb V8 code cache (lib/util/bundle.ts, tested in util-bundle.test.ts), else from tsc's output; the
// plugin answers the same either way.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { bundleFresh, bundlePath, cachePath, launch, PLUGINS } from '../../lib/cni/plugins/launch';

const BIN = path.resolve(__dirname, '../../../bin');

t.test('code caches are per verb and per bundle build', async (t) => {
  t.equal(cachePath('/d/berth-bridge.js', 'abcd1234', 'ADD'), '/d/berth-bridge.ADD.abcd1234.v8cache');
  t.equal(cachePath('/d/berth-bridge.js', 'abcd1234', 'DEL'), '/d/berth-bridge.DEL.abcd1234.v8cache');
  t.equal(cachePath('/d/berth-bridge.js', 'ffff0000', 'ADD'), '/d/berth-bridge.ADD.ffff0000.v8cache', 'a rebuilt bundle gets new names');
  t.equal(cachePath('/d/berth-bridge.js', 'abcd1234', '../../etc/x'), '/d/berth-bridge.other.abcd1234.v8cache', 'CNI_COMMAND never becomes a path');
});

t.test('every plugin starts through the launcher and answers VERSION, bundled or not', async (t) => {
  for (const name of Object.keys(PLUGINS)) {
    t.match(fs.readFileSync(path.join(BIN, name), 'utf8'), `launch('${name}')`, `${name} uses the launcher`);
    const r = spawnSync(path.join(BIN, name), [], { env: { PATH: process.env.PATH, BERTH_NO_AUTOSTART: '1', CNI_COMMAND: 'VERSION' }, encoding: 'utf8' });
    t.equal(r.status, 0, `${name}: ${r.stderr}`);
    t.same(JSON.parse(r.stdout).supportedVersions, ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'], name);
    const bundle = bundleFresh(name);
    if (bundle) t.ok(fs.existsSync(cachePath(bundlePath(name), bundle.id, 'VERSION')), `${name} ran from its bundle (its VERSION code cache exists)`);
  }
  t.throws(() => launch('berth-nope'), /unknown berth plugin berth-nope/);
});
