// Hostile and corrupt images: every trick is refused or contained, nothing is written outside the layer,
// and a failed import leaves no layer, no temp dir, no link and no record.
import t, { type Test } from 'tap';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { importImage } from '../../lib/overlayfs';
import { buildImage, sampleLayers, writeDockerArchive, writeOciLayout, type TarEntry } from '../helpers/image-builder';

function setup(t: Test): { work: string; dataRoot: string } {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ovl-hostile-'));
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  return { work, dataRoot: path.join(work, 'data') };
}

/** The store holds nothing a failed import could have left. */
function assertEmptyStore(t: Test, dataRoot: string): void {
  for (const sub of ['layers', 'l', 'images']) {
    const dir = path.join(dataRoot, sub);
    t.same(fs.existsSync(dir) ? fs.readdirSync(dir) : [], [], `${sub}/ is empty`);
  }
}

/** A host path outside everything the import may touch, removed afterwards whatever happens. */
function sentinel(t: Test, name: string): string {
  const p = path.join(os.tmpdir(), `berth-${name}-${crypto.randomBytes(6).toString('hex')}`);
  t.teardown(() => fs.rmSync(p, { recursive: true, force: true }));
  return p;
}

async function importEntries(t: Test, entries: TarEntry[], gzip = false): Promise<{ dataRoot: string; result: Promise<unknown> }> {
  const { work, dataRoot } = setup(t);
  const layout = path.join(work, 'image');
  writeOciLayout(await buildImage([{ entries, gzip }]), layout);
  return { dataRoot, result: importImage(dataRoot, layout, { name: 'hostile' }) };
}

t.test('a ../escape entry is refused', async (t) => {
  const { dataRoot, result } = await importEntries(t, [{ name: 'ok', content: 'x' }, { name: '../escape', content: 'pwned' }]);
  await t.rejects(result, /"\.\.\/escape": "\.\." component refused/);
  t.notOk(fs.existsSync(path.join(dataRoot, 'layers', 'escape')), 'nothing next to the layer');
  t.notOk(fs.existsSync(path.join(dataRoot, 'escape')));
  assertEmptyStore(t, dataRoot);
});

t.test('a deeper a/../../escape entry is refused', async (t) => {
  const { dataRoot, result } = await importEntries(t, [{ name: 'a/', type: 'directory' }, { name: 'a/../../escape', content: 'pwned' }], true);
  await t.rejects(result, /"\.\." component refused/);
  t.notOk(fs.existsSync(path.join(dataRoot, 'layers', 'escape')));
  assertEmptyStore(t, dataRoot);
});

t.test('an absolute /path entry is refused', async (t) => {
  const target = sentinel(t, 'abs');
  const { dataRoot, result } = await importEntries(t, [{ name: target, content: 'pwned' }]);
  await t.rejects(result, /absolute path refused/);
  t.notOk(fs.existsSync(target), 'the host path was not written');
  assertEmptyStore(t, dataRoot);
});

t.test('a symlink to / and then a file through it is refused', async (t) => {
  const target = sentinel(t, 'through');
  const { dataRoot, result } = await importEntries(t, [
    { name: 'root', type: 'symlink', linkname: '/' },
    { name: `root${target}`, content: 'pwned' },
  ]);
  await t.rejects(result, /refusing to write through symlink root/);
  t.notOk(fs.existsSync(target), 'nothing was written through the link');
  assertEmptyStore(t, dataRoot);
});

t.test('a directory created through a symlink is refused', async (t) => {
  const target = sentinel(t, 'dirthrough');
  const { dataRoot, result } = await importEntries(t, [
    { name: 'tmp', type: 'symlink', linkname: path.dirname(target) },
    { name: `tmp/${path.basename(target)}/`, type: 'directory' },
  ]);
  await t.rejects(result, /refusing to write through symlink tmp/);
  t.notOk(fs.existsSync(target));
  assertEmptyStore(t, dataRoot);
});

t.test('a hardlink to /etc/passwd is refused', async (t) => {
  const before = fs.statSync('/etc/passwd');
  const { dataRoot, result } = await importEntries(t, [{ name: 'passwd', type: 'link', linkname: '/etc/passwd' }]);
  await t.rejects(result, /hardlink "passwd" -> "\/etc\/passwd": absolute path refused/);
  t.equal(fs.statSync('/etc/passwd').nlink, before.nlink, '/etc/passwd gained no link');
  assertEmptyStore(t, dataRoot);
});

t.test('a hardlink climbing out with .. is refused', async (t) => {
  const { dataRoot, result } = await importEntries(t, [{ name: 'passwd', type: 'link', linkname: '../../../../../../etc/passwd' }]);
  await t.rejects(result, /"\.\." component refused/);
  assertEmptyStore(t, dataRoot);
});

t.test('a hardlink through a symlink to /etc is refused', async (t) => {
  const before = fs.statSync('/etc/passwd');
  const { dataRoot, result } = await importEntries(t, [
    { name: 'etc', type: 'symlink', linkname: '/etc' },
    { name: 'passwd', type: 'link', linkname: 'etc/passwd' },
  ]);
  await t.rejects(result, /refusing to write through symlink etc/);
  t.equal(fs.statSync('/etc/passwd').nlink, before.nlink, '/etc/passwd gained no link');
  assertEmptyStore(t, dataRoot);
});

t.test('a symlink chain escaping the layer cannot be written through', async (t) => {
  const target = sentinel(t, 'chain');
  const { dataRoot, result } = await importEntries(t, [
    { name: 'a/', type: 'directory' },
    { name: 'a/up', type: 'symlink', linkname: '../../../../../../../..' },
    { name: 'b', type: 'symlink', linkname: `a/up${path.dirname(target)}` },
    { name: `b/${path.basename(target)}`, content: 'pwned' },
  ]);
  await t.rejects(result, /refusing to write through symlink b/);
  t.notOk(fs.existsSync(target), 'nothing was written at the end of the chain');
  assertEmptyStore(t, dataRoot);
});

t.test('a whiteout naming .. is refused', async (t) => {
  const { dataRoot, result } = await importEntries(t, [{ name: 'sub/.wh...' }]);
  await t.rejects(result, /"\.\." component refused/);
  assertEmptyStore(t, dataRoot);
});

t.test('a file over an earlier symlink replaces the link, not its target', async (t) => {
  const target = sentinel(t, 'replace');
  fs.writeFileSync(target, 'original');
  const { dataRoot, result } = await importEntries(t, [
    { name: 'x', type: 'symlink', linkname: target },
    { name: 'x', content: 'layer content' },
    { name: 'abs-link', type: 'symlink', linkname: '/etc/passwd' },
  ]);
  const record = (await result) as { layers: string[] };
  t.equal(fs.readFileSync(target, 'utf8'), 'original', 'the host file is untouched');
  const layer = path.join(dataRoot, 'layers', record.layers[0].slice(7));
  t.ok(fs.lstatSync(path.join(layer, 'x')).isFile(), 'x is now a regular file in the layer');
  t.equal(fs.readFileSync(path.join(layer, 'x'), 'utf8'), 'layer content');
  t.equal(fs.readlinkSync(path.join(layer, 'abs-link')), '/etc/passwd', 'a symlink alone is stored as a link (resolved in the container)');
});

t.test('a corrupt gzip layer blob aborts with the digest mismatch and leaves nothing', async (t) => {
  const { work, dataRoot } = setup(t);
  const img = await buildImage(sampleLayers());
  const layout = path.join(work, 'image');
  writeOciLayout(img, layout);
  const blob = path.join(layout, 'blobs/sha256', img.layers[0].digest.slice(7));
  const data = fs.readFileSync(blob);
  data[Math.floor(data.length / 2)] ^= 0xff;
  fs.writeFileSync(blob, data);
  const actual = `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;
  const err = await importImage(dataRoot, layout).then(() => undefined, (e: Error) => e);
  t.ok(err, 'the import fails');
  t.equal(err?.message, `digest mismatch for blob blobs/sha256/${img.layers[0].digest.slice(7)}: expected ${img.layers[0].digest}, got ${actual}`);
  assertEmptyStore(t, dataRoot);
});

t.test('a corrupt uncompressed layer (second layer) aborts and the first layer is not kept', async (t) => {
  const { work, dataRoot } = setup(t);
  const img = await buildImage(sampleLayers());
  const layout = path.join(work, 'image');
  writeOciLayout(img, layout);
  const blob = path.join(layout, 'blobs/sha256', img.layers[1].digest.slice(7));
  const data = fs.readFileSync(blob);
  const at = data.indexOf('echo v2');
  data.write('echo v3', at);
  fs.writeFileSync(blob, data);
  await t.rejects(importImage(dataRoot, layout), new RegExp(`digest mismatch for blob blobs/sha256/${img.layers[1].digest.slice(7)}: expected ${img.layers[1].digest}, got sha256:[0-9a-f]{64}$`));
  assertEmptyStore(t, dataRoot);
});

t.test('a config with a wrong diff_id aborts naming rootfs.diff_ids', async (t) => {
  const { work, dataRoot } = setup(t);
  const good = await buildImage(sampleLayers());
  const wrong = `sha256:${'0'.repeat(64)}`;
  const img = await buildImage(sampleLayers(), { diffIds: [good.layers[0].diffId, wrong] });
  const layout = path.join(work, 'image');
  writeOciLayout(img, layout);
  await t.rejects(importImage(dataRoot, layout), { message: `digest mismatch for layer ${img.layers[1].digest} (uncompressed, rootfs.diff_ids): expected ${wrong}, got ${good.layers[1].diffId}` });
  assertEmptyStore(t, dataRoot);
});

t.test('a corrupt config blob is caught before any layer is read', async (t) => {
  const { work, dataRoot } = setup(t);
  const img = await buildImage(sampleLayers());
  const layout = path.join(work, 'image');
  writeOciLayout(img, layout);
  const file = path.join(layout, 'blobs/sha256', img.configDigest.slice(7));
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('/bin/sh', '/bin/xx'));
  await t.rejects(importImage(dataRoot, layout), new RegExp(`digest mismatch for config ${img.configDigest}: expected ${img.configDigest}, got sha256:`));
  assertEmptyStore(t, dataRoot);
});

t.test('a corrupt docker-archive layer.tar is caught by its diff_id', async (t) => {
  const { work, dataRoot } = setup(t);
  const img = await buildImage(sampleLayers());
  const archive = path.join(work, 'image.tar');
  await writeDockerArchive(img, archive);
  const data = fs.readFileSync(archive);
  const at = data.indexOf('echo v2');
  t.ok(at > 0, 'found the content to corrupt');
  data.write('echo v3', at);
  fs.writeFileSync(archive, data);
  await t.rejects(importImage(dataRoot, archive), new RegExp(`expected ${img.layers[1].diffId}, got sha256:`));
  assertEmptyStore(t, dataRoot);
});
