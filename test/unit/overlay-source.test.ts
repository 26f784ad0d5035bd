// Reading image sources without root: the tar indexer, metadata resolution and its checks, the CLI's
// usage errors and listing on an empty store.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { imageCommand } from '../../lib/overlayfs';
import { resolveImage } from '../../lib/overlayfs/manifest';
import { openSource, readAll } from '../../lib/overlayfs/source';
import { indexTar } from '../../lib/overlayfs/tar-index';
import {
  buildImage, buildTar, machineArch, sampleLayers, writeDockerArchive, writeMultiPlatformLayout, writeOciArchive, writeOciLayout,
} from '../helpers/image-builder';

function tmp(t: { teardown: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ovl-unit-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function capture(): { stream: NodeJS.WritableStream; text: () => string } {
  let s = '';
  return { stream: { write: (c: string) => { s += c; return true; } } as unknown as NodeJS.WritableStream, text: () => s };
}

t.test('indexTar finds members by offset, including long names and symlinks', async (t) => {
  const dir = tmp(t);
  const long = `${'d'.repeat(90)}/${'f'.repeat(90)}`;
  const file = path.join(dir, 'a.tar');
  fs.writeFileSync(file, await buildTar([
    { name: 'dir/', type: 'directory' },
    { name: './dir/one', content: 'first' },
    { name: long, content: 'long name' },
    { name: 'link', type: 'symlink', linkname: 'dir/one' },
    { name: 'empty', content: '' },
  ]));
  const idx = await indexTar(file);
  t.same([...idx.keys()].sort(), [long, 'dir/one', 'empty', 'link'].sort());
  const src = await openSource(file);
  t.equal((await readAll(src, 'dir/one')).toString(), 'first');
  t.equal((await readAll(src, long)).toString(), 'long name');
  t.equal((await readAll(src, 'link')).toString(), 'first', 'a member symlink is followed inside the archive');
  t.equal((await readAll(src, 'empty')).length, 0);
  await t.rejects(readAll(src, '../etc/passwd'), /refusing blob path "\.\.\/etc\/passwd" outside the image/);
});

t.test('indexTar refuses a file that is not a tar archive', async (t) => {
  const file = path.join(tmp(t), 'x.tar.gz');
  fs.writeFileSync(file, Buffer.alloc(2048, 7));
  await t.rejects(indexTar(file), /not a tar archive/);
});

t.test('the same image resolves identically from a layout, an oci-archive and a docker-archive', async (t) => {
  const dir = tmp(t);
  const img = await buildImage(sampleLayers(), { config: { Cmd: ['/bin/sh'], User: 'nobody' } });
  writeOciLayout(img, path.join(dir, 'layout'), 'v1');
  await writeOciArchive(img, path.join(dir, 'oci.tar'), 'v1');
  await writeDockerArchive(img, path.join(dir, 'docker.tar'), 'repo/x:v1');
  for (const [src, name] of [['layout', 'v1'], ['oci.tar', 'v1'], ['docker.tar', 'repo/x:v1']]) {
    const r = await resolveImage(await openSource(path.join(dir, src)));
    t.equal(r.configDigest, img.configDigest, `${src}: config digest`);
    t.same(r.layers.map((l) => l.diffId), img.layers.map((l) => l.diffId), `${src}: diff_ids`);
    t.same(r.config, { Cmd: ['/bin/sh'], User: 'nobody' }, `${src}: config`);
    t.equal(r.suggestedName, name, `${src}: name from the source`);
  }
});

t.test('a multi-platform index resolves to this machine\'s manifest', async (t) => {
  const dir = path.join(tmp(t), 'multi');
  const other = machineArch() === 'arm64' ? 's390x' : 'arm64';
  const mine = await buildImage(sampleLayers(), { architecture: machineArch() });
  const theirs = await buildImage([{ entries: [{ name: 'foreign', content: 'x' }] }], { architecture: other });
  writeMultiPlatformLayout([{ img: theirs, architecture: other }, { img: mine, architecture: machineArch() }], dir, 'multi');
  const r = await resolveImage(await openSource(dir));
  t.equal(r.manifestDigest, mine.manifestDigest, 'the manifest for this architecture');
  t.equal(r.configDigest, mine.configDigest);
  t.equal(r.suggestedName, 'multi');
  const only = path.join(tmp(t), 'only-foreign');
  writeMultiPlatformLayout([{ img: theirs, architecture: other }], only);
  await t.rejects(resolveImage(await openSource(only)), new RegExp(`no manifest for linux/${machineArch()} \\(the index has linux/${other}\\)`));
});

t.test('metadata problems are reported before any layer is read', async (t) => {
  const dir = tmp(t);
  await t.rejects(resolveImage(await openSource(dir)), /neither an OCI layout .* nor a docker-archive/);
  fs.writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  fs.writeFileSync(path.join(dir, 'index.json'), '{"manifests":[{"digest":"md5:abc"}]}');
  await t.rejects(resolveImage(await openSource(dir)), /manifests\[0\]\.digest: not a sha256 digest: "md5:abc"/);
  fs.writeFileSync(path.join(dir, 'index.json'), '{not json');
  await t.rejects(resolveImage(await openSource(dir)), /index\.json is not valid JSON/);
  const img = await buildImage(sampleLayers(), { diffIds: [`sha256:${'1'.repeat(64)}`] });
  const bad = path.join(dir, 'bad');
  writeOciLayout(img, bad);
  await t.rejects(resolveImage(await openSource(bad)), /rootfs\.diff_ids has 1 entries but the manifest lists 2 layers/);
  await t.rejects(openSource(path.join(dir, 'missing')), /missing: no such file or directory/);
  const good = await buildImage(sampleLayers());
  const holes = path.join(dir, 'holes');
  writeOciLayout(good, holes);
  fs.rmSync(path.join(holes, 'blobs/sha256', good.layers[1].digest.slice(7)));
  await t.rejects(resolveImage(await openSource(holes)), new RegExp(`missing layer blob blobs/sha256/${good.layers[1].digest.slice(7)}`));
});

t.test('the image CLI reports usage errors on one line and lists an empty store', async (t) => {
  const dataRoot = path.join(tmp(t), 'data');
  const out = capture();
  const err = capture();
  t.equal(await imageCommand(['ls'], { dataRoot, stdout: out.stream, stderr: err.stream }), 0);
  t.equal(out.text(), 'NAME   ID   LAYERS   SIZE   CREATED\n');
  const json = capture();
  t.equal(await imageCommand(['ls', '--format', 'json'], { dataRoot, stdout: json.stream, stderr: err.stream }), 0);
  t.same(JSON.parse(json.text()), []);
  const e1 = capture();
  t.equal(await imageCommand(['frobnicate'], { dataRoot, stdout: out.stream, stderr: e1.stream }), 2);
  t.match(e1.text(), /^berth image: unknown image command "frobnicate" \(want import, ls, inspect, rm, gc, list\)\nNAME:\n   berth image - /);
  const e2 = capture();
  t.equal(await imageCommand(['ls', '--format', 'xml'], { dataRoot, stdout: out.stream, stderr: e2.stream }), 2);
  t.match(e2.text(), /--format must be table or json, not xml/);
  const e3 = capture();
  t.equal(await imageCommand(['inspect', 'nothing'], { dataRoot, stdout: out.stream, stderr: e3.stream }), 1);
  t.equal(e3.text(), 'berth image: no image named "nothing"\n');
  const e4 = capture();
  t.equal(await imageCommand(['import'], { dataRoot, stdout: out.stream, stderr: e4.stream }), 2);
  t.match(e4.text(), /expected exactly one FILE or DIR/);
});
