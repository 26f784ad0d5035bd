import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readFileIfExists, writeFileAtomicSync } from '../../lib/util/fs';

t.test('writeFileAtomicSync replaces content and leaves no temp file', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-util-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const f = path.join(dir, 'state.json');
  writeFileAtomicSync(f, 'one');
  writeFileAtomicSync(f, 'two');
  t.equal(fs.readFileSync(f, 'utf8'), 'two');
  t.same(fs.readdirSync(dir), ['state.json']);
});

t.test('readFileIfExists is undefined for a missing file and rethrows other errors', async (t) => {
  t.equal(readFileIfExists('/nonexistent/berth/x'), undefined);
  t.throws(() => readFileIfExists('/'), { code: 'EISDIR' });
});
