// `berth image ...` end to end on a temp data root: import (with and without a terminal), ls, inspect, rm, gc.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { imageCommand } from '../../lib/overlayfs';
import { buildImage, sampleLayers, writeDockerArchive, writeOciArchive } from '../helpers/image-builder';

function capture(isTTY = false): { stream: NodeJS.WritableStream; text: () => string } {
  let s = '';
  const stream = { isTTY, write: (c: string) => { s += c; return true; } } as unknown as NodeJS.WritableStream;
  return { stream, text: () => s };
}

async function run(dataRoot: string, argv: string[], tty = false): Promise<{ code: number; out: string; err: string }> {
  const out = capture();
  const err = capture(tty);
  const code = await imageCommand(argv, { dataRoot, stdout: out.stream, stderr: err.stream });
  return { code, out: out.text(), err: err.text() };
}

function setup(t: Test): string {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ovl-cli-'));
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  return work;
}

t.test('import, ls, inspect, rm and gc through the CLI', async (t) => {
  const work = setup(t);
  const dataRoot = path.join(work, 'data');
  const img = await buildImage(sampleLayers(), { config: { Cmd: ['/bin/tool'] } });
  const archive = path.join(work, 'sample.tar');
  await writeDockerArchive(img, archive, 'example.com/sample:1.0');

  const imp = await run(dataRoot, ['import', archive]);
  t.same(imp, { code: 0, out: `example.com/sample:1.0 ${img.configDigest}\n`, err: '' }, 'named after RepoTags; quiet without a terminal');
  const again = await run(dataRoot, ['import', archive, '--name', 'copy']);
  t.equal(again.code, 0, 'a second name for the same image');

  const ls = await run(dataRoot, ['ls']);
  const lines = ls.out.trimEnd().split('\n');
  t.match(lines[0], /^NAME\s+ID\s+LAYERS\s+SIZE\s+CREATED$/);
  t.equal(lines.length, 3, 'header and two images');
  t.match(lines[1], new RegExp(`^copy\\s+${img.configDigest.slice(7, 19)}\\s+2\\s`));
  const json = JSON.parse((await run(dataRoot, ['ls', '--format', 'json'])).out) as { name: string; layers: string[] }[];
  t.same(json.map((i) => i.name), ['copy', 'example.com/sample:1.0']);

  const inspect = await run(dataRoot, ['inspect', 'example.com/sample:1.0']);
  t.equal(inspect.code, 0);
  t.same(JSON.parse(inspect.out).config, { Cmd: ['/bin/tool'] });

  t.same(await run(dataRoot, ['rm', 'copy']), { code: 0, out: 'copy\n', err: '' });
  t.same(await run(dataRoot, ['gc']), { code: 0, out: '', err: '' }, 'the layers are still used by the other name');
  t.same(await run(dataRoot, ['rm', 'example.com/sample:1.0']), { code: 0, out: 'example.com/sample:1.0\n', err: '' });
  const gc = await run(dataRoot, ['gc']);
  t.same(gc.out.trim().split('\n').sort(), img.layers.map((l) => l.diffId).sort(), 'gc prints the removed diff_ids');
  t.same(fs.readdirSync(path.join(dataRoot, 'layers')), [], 'no layer left');
  t.same(await run(dataRoot, ['rm', 'copy']), { code: 1, out: '', err: 'berth image: no image named "copy"\n' });
});

t.test('import shows progress on a terminal and fails on one line', async (t) => {
  const work = setup(t);
  const dataRoot = path.join(work, 'data');
  const archive = path.join(work, 'img.tar');
  await writeOciArchive(await buildImage(sampleLayers()), archive, 'v2');
  const tty = await run(dataRoot, ['import', archive, '--name', 'progress'], true);
  t.equal(tty.code, 0);
  t.match(tty.err, /\rimporting: 100% \(/, 'a progress line on a terminal');
  t.ok(tty.err.endsWith('\r\x1b[K'), 'the progress line is cleared at the end');

  const broken = path.join(work, 'broken.tar');
  fs.writeFileSync(broken, 'this is not an archive'.padEnd(4096, '!'));
  const bad = await run(dataRoot, ['import', broken]);
  t.equal(bad.code, 1);
  t.equal(bad.err, `berth image: ${broken}: not a tar archive (compressed archives must be decompressed first)\n`);
  t.equal(bad.err.split('\n').length, 2, 'exactly one line');
});
