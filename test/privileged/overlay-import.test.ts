// Imports the sample image from all three source formats, mounts it, and checks the merged view against
// the expected tree and against what umoci unpacks from the same image.
import { reexecInPrivateMountNamespace } from '../helpers/image-builder';
reexecInPrivateMountNamespace();

import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { native } from '../../lib/sys/native';
import { importImage, prepareRootfs, releaseRootfs } from '../../lib/overlayfs';
import {
  buildImage, sampleExpected, sampleLayers, writeDockerArchive, writeOciArchive, writeOciLayout, type BuiltImage, type ExpectedNode,
} from '../helpers/image-builder';

function tmpdir(t: { teardown: (fn: () => void) => void }, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function typeOf(st: fs.Stats): ExpectedNode['type'] | 'other' {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isFIFO()) return 'fifo';
  return 'other';
}

/** Every path below root (relative, sorted), with what a comparison needs to see. */
function describeTree(root: string): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  const walk = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const full = path.join(root, r);
      const st = fs.lstatSync(full);
      const d: Record<string, unknown> = { type: typeOf(st), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
      if (st.isFile()) d.content = fs.readFileSync(full, 'utf8');
      if (st.isSymbolicLink()) d.link = fs.readlinkSync(full);
      if (st.isCharacterDevice()) d.rdev = [Math.floor(st.rdev / 256), st.rdev % 256];
      if (!st.isDirectory()) d.mtime = Math.floor(st.mtimeMs / 1000);
      if (!st.isSymbolicLink()) {
        const xattrs: Record<string, string> = {};
        for (const x of native().llistxattr(full).filter((n) => n.startsWith('user.'))) xattrs[x] = String(native().lgetxattr(full, x));
        if (Object.keys(xattrs).length) d.xattrs = xattrs;
      }
      out.set(r, d);
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

function checkExpected(t: Test, rootfs: string): void {
  const tree = describeTree(rootfs);
  const expected = sampleExpected();
  t.same([...tree.keys()].sort(), Object.keys(expected).sort(), 'the merged view holds exactly the expected paths');
  for (const [p, want] of Object.entries(expected)) {
    const have = tree.get(p);
    if (!have) continue;
    t.match(have, { uid: 0, gid: 0, ...want }, `${p}: type, mode, owner, content, link`);
  }
  const a = fs.statSync(path.join(rootfs, 'new/added'));
  const b = fs.statSync(path.join(rootfs, 'new/hardlink'));
  t.equal(a.ino, b.ino, 'the hardlink shares the inode of its target');
  t.equal(a.nlink, 2, 'the hardlinked file has two names');
}

async function imageFixture(): Promise<BuiltImage> {
  return buildImage(sampleLayers(), { config: { Cmd: ['/bin/tool'], Env: ['PATH=/bin'], WorkingDir: '/home/user', User: '1000' } });
}

for (const format of ['oci-layout', 'oci-archive', 'docker-archive'] as const) {
  t.test(`${format === 'docker-archive' ? 'a' : 'an'} ${format} imports and mounts as the expected tree`, async (t) => {
    const work = tmpdir(t, 'berth-ovl-import-');
    const dataRoot = path.join(work, 'data');
    const img = await imageFixture();
    let source = path.join(work, 'image');
    if (format === 'oci-layout') writeOciLayout(img, source, 'v1');
    if (format === 'oci-archive') await writeOciArchive(img, (source += '.tar'), 'v1');
    if (format === 'docker-archive') await writeDockerArchive(img, (source += '.tar'), 'test/sample:v1');
    const record = await importImage(dataRoot, source, { name: `sample-${format}` });
    t.equal(record.id, img.configDigest, 'the image id is the config digest');
    t.same(record.layers, img.layers.map((l) => l.diffId), 'layers are the diff_ids, bottom first');
    t.same(record.config, { Cmd: ['/bin/tool'], Env: ['PATH=/bin'], WorkingDir: '/home/user', User: '1000' });
    t.same(fs.readdirSync(path.join(dataRoot, 'layers')).sort(), img.layers.map((l) => l.diffId.slice(7)).sort(), 'one directory per layer, no temp dirs');

    const id = `c-${format}`;
    t.teardown(() => releaseRootfs(dataRoot, id));
    const { rootfs, config } = await prepareRootfs(dataRoot, record.name, id);
    t.equal(config.WorkingDir, '/home/user');
    t.ok(fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${rootfs} `), 'the rootfs is a mount point');
    checkExpected(t, rootfs);
    await releaseRootfs(dataRoot, id);
    t.notOk(fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(rootfs), 'releaseRootfs leaves no mount');
    t.notOk(fs.existsSync(path.join(dataRoot, 'containers', id)), 'releaseRootfs removes upper and work');
  });
}

t.test('the merged view equals what umoci unpacks, file by file', async (t) => {
  const work = tmpdir(t, 'berth-ovl-umoci-');
  const dataRoot = path.join(work, 'data');
  const img = await imageFixture();
  const layout = path.join(work, 'layout');
  writeOciLayout(img, layout, 'v1');
  const bundle = path.join(work, 'bundle');
  execFileSync('umoci', ['unpack', '--image', `${layout}:v1`, bundle], { stdio: 'pipe' });
  await importImage(dataRoot, layout, { name: 'sample' });
  t.teardown(() => releaseRootfs(dataRoot, 'umoci-cmp'));
  const { rootfs } = await prepareRootfs(dataRoot, 'sample', 'umoci-cmp');
  const ours = describeTree(rootfs);
  const theirs = describeTree(path.join(bundle, 'rootfs'));
  t.same([...ours.keys()], [...theirs.keys()], 'same paths');
  for (const [p, d] of theirs) t.same(ours.get(p), d, `${p} matches umoci`);
});

t.test('a busybox image made by umoci, converted by skopeo, imports and runs from every format', async (t) => {
  const work = tmpdir(t, 'berth-ovl-busybox-');
  const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  sh('umoci', ['init', '--layout', 'img']);
  sh('umoci', ['new', '--image', 'img:latest']);
  sh('umoci', ['unpack', '--image', 'img:latest', 'bundle']);
  fs.mkdirSync(path.join(work, 'bundle/rootfs/bin'));
  fs.copyFileSync('/bin/busybox', path.join(work, 'bundle/rootfs/bin/busybox'));
  fs.chmodSync(path.join(work, 'bundle/rootfs/bin/busybox'), 0o755);
  fs.symlinkSync('busybox', path.join(work, 'bundle/rootfs/bin/sh'));
  sh('umoci', ['repack', '--image', 'img:latest', 'bundle']);
  sh('umoci', ['config', '--image', 'img:latest', '--config.cmd', '/bin/sh']);
  sh('skopeo', ['copy', 'oci:img:latest', `docker-archive:${work}/docker.tar:busybox:test`]);
  sh('skopeo', ['copy', 'oci:img:latest', `oci-archive:${work}/oci.tar:latest`]);
  const dataRoot = path.join(work, 'data');
  for (const src of ['img', 'docker.tar', 'oci.tar']) {
    const record = await importImage(dataRoot, path.join(work, src), { name: `bb-${src}` });
    const id = `bb-${src.replace('.', '-')}`;
    t.teardown(() => releaseRootfs(dataRoot, id));
    const { rootfs, config } = await prepareRootfs(dataRoot, record.name, id);
    t.same(config.Cmd, ['/bin/sh'], `${src}: the image config`);
    const out = execFileSync('chroot', [rootfs, '/bin/sh', '-c', 'echo hello > /greeting && busybox cat /greeting'], { encoding: 'utf8' });
    t.equal(out, 'hello\n', `${src}: busybox runs in the mounted rootfs`);
    await releaseRootfs(dataRoot, id);
  }
  t.equal(fs.readdirSync(path.join(dataRoot, 'layers')).length, 1, 'the three imports share one layer');
});
