// Container root filesystems on the layer store: isolation between containers, shared lower layers,
// release and gc, images with many layers. Runs in a private mount namespace (see the helper).
import { reexecInPrivateMountNamespace } from '../helpers/image-builder';
reexecInPrivateMountNamespace();

import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { gcLayers, importImage, prepareRootfs, releaseRootfs, type ImageRecord } from '../../lib/overlayfs';
import { buildImage, sampleLayers, writeOciLayout, type LayerSpec } from '../helpers/image-builder';

function setup(t: Test, dataName = 'data'): { work: string; dataRoot: string } {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ovl-rootfs-'));
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  return { work, dataRoot: path.join(work, dataName) };
}

async function importLayers(work: string, dataRoot: string, layers: LayerSpec[], name: string): Promise<ImageRecord> {
  const layout = path.join(work, `layout-${name}`);
  writeOciLayout(await buildImage(layers), layout);
  return importImage(dataRoot, layout, { name });
}

/** mountinfo lines of overlay mounts at or below a directory */
function overlayMounts(under: string): { target: string; options: string }[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((l) => {
    const [pre, post] = l.split(' - ');
    const f = post.split(' ');
    return { target: pre.split(' ')[4], fstype: f[0], options: f[2] };
  }).filter((m) => m.fstype === 'overlay' && m.target.startsWith(under));
}

function layerDirs(dataRoot: string): string[] {
  return fs.readdirSync(path.join(dataRoot, 'layers')).sort();
}

t.test('writes stay in one container\'s upper dir; a second container shares the lower layers', async (t) => {
  const { work, dataRoot } = setup(t);
  const img = await importLayers(work, dataRoot, sampleLayers(), 'sample');
  t.teardown(() => releaseRootfs(dataRoot, 'one'));
  t.teardown(() => releaseRootfs(dataRoot, 'two'));
  const one = await prepareRootfs(dataRoot, 'sample', 'one');
  const two = await prepareRootfs(dataRoot, img.id, 'two'); // by id works too
  const upperOne = path.join(dataRoot, 'containers/one/upper');
  const upperTwo = path.join(dataRoot, 'containers/two/upper');

  fs.writeFileSync(path.join(one.rootfs, 'etc/hostname'), 'changed\n');
  fs.writeFileSync(path.join(one.rootfs, 'created'), 'new\n');
  fs.rmSync(path.join(one.rootfs, 'bin/tool'));

  t.equal(fs.readFileSync(path.join(upperOne, 'etc/hostname'), 'utf8'), 'changed\n', 'the change is copied up into the upper dir');
  t.equal(fs.readFileSync(path.join(upperOne, 'created'), 'utf8'), 'new\n');
  const wh = fs.lstatSync(path.join(upperOne, 'bin/tool'));
  t.ok(wh.isCharacterDevice() && wh.rdev === 0, 'the deletion is a whiteout in the upper dir');
  t.same(fs.readdirSync(upperTwo), [], 'the second container\'s upper dir is untouched');
  t.equal(fs.readFileSync(path.join(two.rootfs, 'etc/hostname'), 'utf8'), 'base\n', 'the second container sees the image content');
  t.notOk(fs.existsSync(path.join(two.rootfs, 'created')));
  t.ok(fs.existsSync(path.join(two.rootfs, 'bin/tool')));
  const layer1 = path.join(dataRoot, 'layers', img.layers[0].slice(7));
  t.equal(fs.readFileSync(path.join(layer1, 'etc/hostname'), 'utf8'), 'base\n', 'the layer itself is unchanged');

  const mounts = overlayMounts(dataRoot);
  t.equal(mounts.length, 2, 'two overlay mounts');
  const lower = (o: string): string | undefined => /(?:^|,)lowerdir=([^,]*)/.exec(o)?.[1];
  t.ok(lower(mounts[0].options), 'mountinfo shows the lowerdir option');
  t.equal(lower(mounts[0].options), lower(mounts[1].options), 'both mounts use the same lower dirs');
  const a = fs.statSync(path.join(one.rootfs, 'etc/passwd'));
  const b = fs.statSync(path.join(two.rootfs, 'etc/passwd'));
  t.equal(a.ino, fs.statSync(path.join(layer1, 'etc/passwd')).ino, 'an unchanged file is the layer\'s inode');
  // st_dev is per overlay mount; the inode number is the lower file's in both
  t.equal(b.ino, a.ino, 'both containers see the same lower inode');
});

t.test('a second prepare for the same container id is refused, a missing image names the image', async (t) => {
  const { work, dataRoot } = setup(t);
  await importLayers(work, dataRoot, sampleLayers(), 'sample');
  t.teardown(() => releaseRootfs(dataRoot, 'dup'));
  await prepareRootfs(dataRoot, 'sample', 'dup');
  await t.rejects(prepareRootfs(dataRoot, 'sample', 'dup'), /container dup already has a root filesystem/);
  await t.rejects(prepareRootfs(dataRoot, 'nope', 'other'), /no image named "nope"/);
  t.notOk(fs.existsSync(path.join(dataRoot, 'containers/other')), 'a failed prepare leaves no container dir');
  await t.rejects(prepareRootfs(dataRoot, 'sample', '../evil'), /invalid container id/);
  t.equal(overlayMounts(dataRoot).length, 1, 'only the first prepare mounted');
});

t.test('rm + gc remove unreferenced layers; a container keeps its layers until released', async (t) => {
  const { work, dataRoot } = setup(t);
  const base = sampleLayers()[0];
  const imgA = await importLayers(work, dataRoot, sampleLayers(), 'a');
  const imgB = await importLayers(work, dataRoot, [base, { entries: [{ name: 'b-only', content: 'b' }] }], 'b');
  t.equal(imgA.layers[0], imgB.layers[0], 'the two images share their base layer');
  t.equal(layerDirs(dataRoot).length, 3, 'the shared layer is stored once');

  t.teardown(() => releaseRootfs(dataRoot, 'user-of-a'));
  await prepareRootfs(dataRoot, 'a', 'user-of-a');
  const { imageCommand } = await import('../../lib/overlayfs');
  const sink = { write: () => true } as unknown as NodeJS.WritableStream;
  t.equal(await imageCommand(['rm', 'a'], { dataRoot, stdout: sink, stderr: sink }), 0, 'image rm a');
  t.same(await gcLayers(dataRoot), [], 'gc keeps the layers a container uses');
  await releaseRootfs(dataRoot, 'user-of-a');
  t.same(overlayMounts(dataRoot), [], 'release leaves no mount');
  t.same(await gcLayers(dataRoot), [imgA.layers[1]], 'after release gc removes the layer only a used');
  t.same(layerDirs(dataRoot), imgB.layers.map((l) => l.slice(7)).sort(), 'b\'s layers stay');
  t.equal(fs.readdirSync(path.join(dataRoot, 'l')).length, 2, 'one short link per remaining layer');

  t.equal(await imageCommand(['rm', 'b'], { dataRoot, stdout: sink, stderr: sink }), 0);
  t.same(await gcLayers(dataRoot), [...imgB.layers].sort(), 'gc removes the rest');
  t.same(layerDirs(dataRoot), [], 'no layer left');
  t.same(fs.readdirSync(path.join(dataRoot, 'l')), [], 'no short link left');
});

t.test('releaseRootfs unmounts a busy rootfs and is idempotent', async (t) => {
  const { work, dataRoot } = setup(t);
  await importLayers(work, dataRoot, sampleLayers(), 'sample');
  t.teardown(() => releaseRootfs(dataRoot, 'busy'));
  const { rootfs } = await prepareRootfs(dataRoot, 'sample', 'busy');
  // a process with its cwd inside makes a plain umount fail with EBUSY
  const child = spawn('sleep', ['60'], { cwd: rootfs, stdio: 'ignore' });
  t.teardown(() => { child.kill('SIGKILL'); });
  await new Promise((r) => child.once('spawn', r));
  await releaseRootfs(dataRoot, 'busy');
  t.same(overlayMounts(dataRoot), [], 'the mount is gone (detached)');
  t.notOk(fs.existsSync(path.join(dataRoot, 'containers/busy')), 'upper and work are removed');
  await releaseRootfs(dataRoot, 'busy');
  await releaseRootfs(dataRoot, 'never-existed');
  t.pass('releasing twice, or an unknown id, is fine');
});

function manyLayers(n: number): LayerSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    gzip: i % 2 === 0,
    entries: [{ name: `layer-${i}`, content: `${i}\n` }, { name: 'top', content: `layer ${i}\n` }],
  }));
}

t.test('a 64-layer image mounts with every layer visible', async (t) => {
  const { work, dataRoot } = setup(t);
  await importLayers(work, dataRoot, manyLayers(64), 'many');
  t.teardown(() => releaseRootfs(dataRoot, 'many'));
  const { rootfs } = await prepareRootfs(dataRoot, 'many', 'many');
  t.equal(fs.readFileSync(path.join(rootfs, 'top'), 'utf8'), 'layer 63\n', 'the top layer wins');
  t.equal(fs.readdirSync(rootfs).filter((n) => n.startsWith('layer-')).length, 64, 'a file from each layer');
  t.equal(fs.readFileSync(path.join(rootfs, 'layer-0'), 'utf8'), '0\n', 'the bottom layer is there');
});

t.test('200 layers under a long data root mount through relative short names', async (t) => {
  // 200 absolute lowerdirs here would be well over a page (4096 bytes) of mount options
  const { work, dataRoot } = setup(t, `data-${'x'.repeat(120)}`);
  await importLayers(work, dataRoot, manyLayers(200), 'tall');
  t.ok(200 * (path.join(dataRoot, 'l').length + 14) > 4096, 'absolute options would not fit');
  t.teardown(() => releaseRootfs(dataRoot, 'tall'));
  const cwd = process.cwd();
  const { rootfs } = await prepareRootfs(dataRoot, 'tall', 'tall');
  t.equal(process.cwd(), cwd, 'the working directory is restored');
  t.equal(fs.readFileSync(path.join(rootfs, 'top'), 'utf8'), 'layer 199\n');
  t.equal(fs.readdirSync(rootfs).filter((n) => n.startsWith('layer-')).length, 200);
});

t.test('concurrent imports of images sharing layers store each layer once', async (t) => {
  const { work, dataRoot } = setup(t);
  const layers = sampleLayers();
  const a = path.join(work, 'a');
  const b = path.join(work, 'b');
  writeOciLayout(await buildImage(layers), a);
  writeOciLayout(await buildImage([layers[0], { entries: [{ name: 'b', content: 'b' }] }]), b);
  const [ra, rb] = await Promise.all([importImage(dataRoot, a, { name: 'a' }), importImage(dataRoot, b, { name: 'b' }), gcLayers(dataRoot)]);
  t.equal(ra.layers[0], rb.layers[0]);
  t.same(layerDirs(dataRoot), [...new Set([...ra.layers, ...rb.layers])].map((l) => l.slice(7)).sort(), 'three layers, no temp dirs');
  t.same(await gcLayers(dataRoot), [], 'gc after both imports finds nothing to remove');
});
