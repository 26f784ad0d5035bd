// Hostile image archives, performed through the CLI as an admin would run it: a truncated gzip layer,
// extended tar headers that claim gigabytes, entry names that are not UTF-8 (GNU tar is the control), and
// archives whose manifest or config is a symlink to a host file. Each must end in one line on stderr and
// an unchanged store, never a stack trace, a huge allocation, a lost file or a host file's bytes.
import t, { type Test } from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { installRoot } from '../../lib/util/install';
import {
  assembleImage, buildImage, buildTar, sampleLayers, sha256, writeDockerArchive, writeOciLayout, type BuiltLayer,
} from '../helpers/image-builder';
import { END_OF_ARCHIVE, padding, partsSize, paxRecords, tarHeader, tarMember, writeSparse, type SparsePart } from '../helpers/raw-tar';

const BERTH = path.join(installRoot(), 'bin', 'berth');

function tmpdir(t: Test, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `berth-image-${prefix}-`));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface CliResult { status: number | null; signal: string | null; stdout: string; stderr: string; maxRssMB: number }

/** `berth image --data-root D import SRC` in a fresh process; its peak RSS is reported by a preload hook. */
function cliImport(work: string, dataRoot: string, source: string, name = 'hostile'): CliResult {
  const hook = path.join(work, 'maxrss-hook.js');
  const out = path.join(work, 'maxrss');
  fs.rmSync(out, { force: true });
  fs.writeFileSync(hook, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, String(process.resourceUsage().maxRSS)));\n`);
  const r = spawnSync(process.execPath, ['-r', hook, BERTH, 'image', '--data-root', dataRoot, 'import', '--name', name, source], { encoding: 'utf8', timeout: 120_000 });
  const kb = fs.existsSync(out) ? Number(fs.readFileSync(out, 'utf8')) : NaN;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, maxRssMB: kb / 1024 };
}

/** Every path under the data root with its type and size: what "the store is unchanged" compares. */
function snapshot(dataRoot: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(dataRoot, rel)).sort()) {
      const r = path.join(rel, name);
      const st = fs.lstatSync(path.join(dataRoot, r));
      out.push(`${r} ${st.isDirectory() ? 'dir' : st.isSymbolicLink() ? `-> ${fs.readlinkSync(path.join(dataRoot, r))}` : st.size}`);
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

/** A store that already holds an image, so that "unchanged" is not trivially "empty". */
async function populatedStore(t: Test, work: string): Promise<{ dataRoot: string; before: string[] }> {
  const dataRoot = path.join(work, 'data');
  const layout = path.join(work, 'good');
  writeOciLayout(await buildImage(sampleLayers()), layout);
  const r = cliImport(work, dataRoot, layout, 'good');
  t.equal(r.status, 0, `the good image imports (${r.stderr.trim()})`);
  return { dataRoot, before: snapshot(dataRoot) };
}

function assertOneLineFailure(t: Test, r: CliResult, pattern: RegExp): void {
  t.equal(r.signal, null, 'no signal (no abort)');
  t.equal(r.status, 1, 'exit status 1');
  t.equal(r.stdout, '', 'nothing on stdout');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  t.equal(lines.length, 1, `exactly one line on stderr: ${JSON.stringify(r.stderr.slice(0, 600))}`);
  t.match(lines[0] ?? '', pattern);
}

function layerOf(blob: Buffer, tar: Buffer, gzip: boolean): BuiltLayer {
  return { blob, digest: sha256(blob), diffId: sha256(tar), mediaType: `application/vnd.oci.image.layer.v1.tar${gzip ? '+gzip' : ''}` };
}

t.test('a truncated gzip layer fails in one line naming the layer, and leaves the store as it was', async (t) => {
  const work = tmpdir(t, 'gzip');
  const { dataRoot, before } = await populatedStore(t, work);
  const files = Array.from({ length: 200 }, (_, i) => ({ name: `data/f${i}`, content: crypto.randomBytes(2048) }));
  const tar = await buildTar([{ name: 'data/', type: 'directory' }, ...files]);
  const full = zlib.gzipSync(tar);

  // the image as published: its digests are those of the truncated bytes, so only gunzip can tell
  const cut = full.subarray(0, Math.floor(full.length * 0.6));
  const img = assembleImage([layerOf(cut, tar, true)]);
  const layout = path.join(work, 'truncated');
  writeOciLayout(img, layout);
  const r = cliImport(work, dataRoot, layout);
  assertOneLineFailure(t, r, new RegExp(`^berth: layer ${img.layers[0].digest}: the gzip stream is truncated \\(unexpected end of file\\)$`));
  t.same(snapshot(dataRoot), before, 'the store is unchanged: no layer, no temp dir, no link, no record');

  // a good image whose blob was cut short on disk afterwards: its size no longer matches the manifest
  const good = assembleImage([layerOf(full, tar, true)]);
  const layout2 = path.join(work, 'cut-on-disk');
  writeOciLayout(good, layout2);
  fs.truncateSync(path.join(layout2, 'blobs/sha256', good.layers[0].digest.slice(7)), cut.length);
  const r2 = cliImport(work, dataRoot, layout2);
  assertOneLineFailure(t, r2, new RegExp(`layer ${good.layers[0].digest}: the blob is ${cut.length} bytes, the manifest says ${full.length} \\(truncated or replaced\\)$`));
  t.same(snapshot(dataRoot), before, 'the store is unchanged');
});

const GB = 1e9;

/** A docker-archive whose first member is an extended header claiming `size` bytes, the data a hole. */
function hugeHeaderArchive(file: string, type: 'x' | 'L' | 'K', size: number): void {
  const parts: SparsePart[] = [tarHeader({ name: type === 'x' ? 'PaxHeaders/manifest.json' : '././@LongLink', type, size }), { hole: size + padding(size).length }];
  parts.push(tarMember({ name: 'manifest.json' }, Buffer.from('[]')), END_OF_ARCHIVE);
  writeSparse(file, parts);
}

/** A docker-archive whose layer.tar starts with such a header: the layer stream itself is hostile. */
function hugeHeaderLayerArchive(file: string, type: 'x' | 'L' | 'K', size: number): void {
  const inner: SparsePart[] = [tarHeader({ name: '././@LongLink', type, size }), { hole: size + padding(size).length }, END_OF_ARCHIVE];
  const innerSize = partsSize(inner);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${'1'.repeat(64)}`] } }));
  const manifest = Buffer.from(JSON.stringify([{ Config: 'config.json', RepoTags: ['huge:latest'], Layers: ['layer/layer.tar'] }]));
  writeSparse(file, [
    tarMember({ name: 'manifest.json' }, manifest),
    tarMember({ name: 'config.json' }, config),
    tarMember({ name: 'layer/', type: '5' }),
    tarHeader({ name: 'layer/layer.tar', size: innerSize }),
    ...inner,
    padding(innerSize),
    END_OF_ARCHIVE,
  ]);
}

const HUGE: { type: 'x' | 'L' | 'K'; what: string; size: number }[] = [
  { type: 'x', what: 'a PAX header of 1.9 GB', size: 1.9 * GB },
  { type: 'L', what: 'a GNU long name of 2 GiB', size: 2 ** 31 },
  { type: 'x', what: 'a PAX header of 5 GB', size: 5 * GB },
  { type: 'K', what: 'a GNU long link of 1.9 GB', size: 1.9 * GB },
];
const RSS_LIMIT_MB = 200; // node and the CLI need about 60-110 MB here; the unbounded read needed 2 GB

for (const h of HUGE) {
  t.test(`an archive starting with ${h.what} is refused in one line, with a small peak RSS`, async (t) => {
    const work = tmpdir(t, 'huge');
    const { dataRoot, before } = await populatedStore(t, work);
    const archive = path.join(work, 'huge.tar');
    hugeHeaderArchive(archive, h.type, h.size);
    t.ok(fs.statSync(archive).blocks * 512 < 1 << 20, 'the archive is sparse: the claimed bytes are a hole');
    const r = cliImport(work, dataRoot, archive);
    assertOneLineFailure(t, r, new RegExp(`^berth: ${archive}: tar header at offset 0: (PAX extended header|GNU long name|GNU long link) of ${h.size} bytes exceeds the 1 MiB limit$`));
    t.ok(r.maxRssMB < RSS_LIMIT_MB, `peak RSS ${r.maxRssMB.toFixed(0)} MB < ${RSS_LIMIT_MB} MB`);
    t.same(snapshot(dataRoot), before, 'the store is unchanged');
  });
}

t.test('the same headers at the start of a layer stream are refused in one line, with a small peak RSS', async (t) => {
  const work = tmpdir(t, 'huge-layer');
  const { dataRoot, before } = await populatedStore(t, work);
  for (const h of HUGE) {
    const archive = path.join(work, `layer-${h.type}-${h.size}.tar`);
    hugeHeaderLayerArchive(archive, h.type, h.size);
    const r = cliImport(work, dataRoot, archive);
    assertOneLineFailure(t, r, new RegExp(`^berth: layer layer/layer.tar: tar header at offset 0: (PAX extended header|GNU long name|GNU long link) of ${h.size} bytes exceeds the 1 MiB limit$`));
    t.ok(r.maxRssMB < RSS_LIMIT_MB, `${h.what}: peak RSS ${r.maxRssMB.toFixed(0)} MB < ${RSS_LIMIT_MB} MB`);
    t.same(snapshot(dataRoot), before, `${h.what}: the store is unchanged`);
    fs.rmSync(archive);
  }
});

/** Every path below root as bytes (hex), with type, mode, content or link target: a byte-exact tree. */
function byteTree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: Buffer): void => {
    const dir = Buffer.concat([Buffer.from(root), rel.length ? Buffer.from('/') : Buffer.alloc(0), rel]);
    for (const name of fs.readdirSync(dir, { encoding: 'buffer' })) {
      const r = rel.length ? Buffer.concat([rel, Buffer.from('/'), name]) : name;
      const full = Buffer.concat([dir, Buffer.from('/'), name]);
      const st = fs.lstatSync(full);
      const what = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? `link ${fs.readlinkSync(full, { encoding: 'buffer' }).toString('hex')}` : `file ${fs.readFileSync(full).toString('hex')}`;
      out.set(r.toString('hex'), `${what} mode ${(st.mode & 0o7777).toString(8)}`);
      if (st.isDirectory()) walk(r);
    }
  };
  walk(Buffer.alloc(0));
  return out;
}

t.test('entry names that are not UTF-8 land byte for byte, as GNU tar extracts them', async (t) => {
  const version = spawnSync('tar', ['--version'], { encoding: 'utf8' });
  t.match(version.stdout ?? '', /GNU tar/, 'needs the program GNU tar (scripts/setup.sh installs it)');
  const work = tmpdir(t, 'names');
  const a = Buffer.from('etc/\xff\xfe', 'latin1');
  const b = Buffer.from('etc/\xfe\xff', 'latin1');
  const long = Buffer.concat([Buffer.from('etc/'), Buffer.from('d\xe9j\xe0-vu-'.repeat(15), 'latin1')]);
  const tar = Buffer.concat([
    tarMember({ name: 'etc/', type: '5' }),
    tarMember({ name: a }, Buffer.from('first\n')),
    tarMember({ name: b }, Buffer.from('second\n')),
    // a GNU long name (more than 100 bytes), not UTF-8 either
    tarMember({ name: '././@LongLink', type: 'L' }, Buffer.concat([long, Buffer.from([0])])),
    tarMember({ name: long.subarray(0, 100) }, Buffer.from('long\n')),
    tarMember({ name: 'etc/link', type: '2', linkname: Buffer.from('\xff\xfe', 'latin1') }),
    END_OF_ARCHIVE,
  ]);
  const layer = path.join(work, 'layer.tar');
  fs.writeFileSync(layer, tar);
  const control = path.join(work, 'control');
  fs.mkdirSync(control);
  execFileSync('tar', ['-xf', layer, '-C', control, '--same-owner', '--same-permissions']);

  const img = assembleImage([layerOf(tar, tar, false)]);
  const layout = path.join(work, 'image');
  writeOciLayout(img, layout);
  const dataRoot = path.join(work, 'data');
  const r = cliImport(work, dataRoot, layout);
  t.equal(r.status, 0, `the import succeeds (${r.stderr.trim()})`);
  const ours = path.join(dataRoot, 'layers', img.layers[0].diffId.slice(7));
  const theirs = byteTree(control);
  const mine = byteTree(ours);
  t.same([...mine.keys()].sort(), [...theirs.keys()].sort(), 'the same names, byte for byte, as GNU tar');
  for (const [name, d] of theirs) t.equal(mine.get(name), d, `${name}: same type, mode, content or link as GNU tar`);
  t.equal(fs.readFileSync(Buffer.concat([Buffer.from(`${ours}/`), a]), 'utf8'), 'first\n', 'etc/\\xff\\xfe holds its own content');
  t.equal(fs.readFileSync(Buffer.concat([Buffer.from(`${ours}/`), b]), 'utf8'), 'second\n', 'etc/\\xfe\\xff holds its own content');
  t.equal(fs.readdirSync(path.join(ours, 'etc')).length, 4, 'no file was lost');
});

t.test('a manifest, config or blob that is a symlink to a host file is refused, and its bytes are echoed nowhere', async (t) => {
  const work = tmpdir(t, 'links');
  const secretBytes = `SECRET-${crypto.randomBytes(12).toString('hex')} not json\n`;
  const secret = path.join(os.tmpdir(), `berth-image-secret-${crypto.randomBytes(6).toString('hex')}`);
  fs.writeFileSync(secret, secretBytes);
  t.teardown(() => fs.rmSync(secret, { force: true }));
  const { dataRoot, before } = await populatedStore(t, work);
  const img = await buildImage(sampleLayers());

  // a docker-form directory: what `docker save` writes, unpacked
  const unpackDocker = async (name: string): Promise<string> => {
    const archive = path.join(work, `${name}.tar`);
    const dir = path.join(work, name);
    await writeDockerArchive(img, archive);
    fs.mkdirSync(dir);
    execFileSync('tar', ['-xf', archive, '-C', dir]);
    return dir;
  };
  const configName = `${img.configDigest.slice(7)}.json`;
  const cases: { what: string; make: () => Promise<string> }[] = [
    {
      what: 'docker-form directory, config -> host file (absolute link)',
      make: async () => {
        const dir = await unpackDocker('abs-config');
        fs.rmSync(path.join(dir, configName));
        fs.symlinkSync(secret, path.join(dir, configName));
        return dir;
      },
    },
    {
      what: 'docker-form directory, config -> ../../.. host file (relative link climbing out)',
      make: async () => {
        const dir = await unpackDocker('rel-config');
        fs.rmSync(path.join(dir, configName));
        fs.symlinkSync(path.relative(dir, secret), path.join(dir, configName));
        return dir;
      },
    },
    {
      what: 'docker-form directory, manifest.json -> host file',
      make: async () => {
        const dir = await unpackDocker('manifest');
        fs.rmSync(path.join(dir, 'manifest.json'));
        fs.symlinkSync(secret, path.join(dir, 'manifest.json'));
        return dir;
      },
    },
    {
      what: 'OCI layout, config blob -> host file',
      make: async () => {
        const dir = path.join(work, 'oci');
        writeOciLayout(img, dir);
        const blob = path.join(dir, 'blobs/sha256', img.configDigest.slice(7));
        fs.rmSync(blob);
        fs.symlinkSync(secret, blob);
        return dir;
      },
    },
    {
      what: 'docker-archive, config member is a symlink to the host file\'s absolute path',
      make: async () => {
        const archive = path.join(work, 'abs-member.tar');
        const manifest = Buffer.from(JSON.stringify([{ Config: 'config.json', RepoTags: ['x:y'], Layers: ['l/layer.tar'] }]));
        fs.writeFileSync(archive, Buffer.concat([
          tarMember({ name: 'manifest.json' }, manifest),
          tarMember({ name: 'config.json', type: '2', linkname: secret }),
          END_OF_ARCHIVE,
        ]));
        return archive;
      },
    },
  ];
  for (const c of cases) {
    const source = await c.make();
    const r = cliImport(work, dataRoot, source);
    assertOneLineFailure(t, r, /refusing symlink .* it points outside the image$/);
    const output = r.stdout + r.stderr;
    t.notOk(output.includes(secretBytes.slice(0, 8)), `${c.what}: no byte of the host file in the output`);
    t.notOk(output.includes(sha256(Buffer.from(secretBytes)).slice(7, 19)), `${c.what}: not even its digest`);
    t.same(snapshot(dataRoot), before, `${c.what}: the store is unchanged`);
  }

  // links that stay inside the image are still followed: docker save links layer.tar into blobs/
  const dir = await unpackDocker('inside');
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
  const first = manifest[0].Layers[0];
  fs.mkdirSync(path.join(dir, 'blobs/sha256'), { recursive: true });
  fs.renameSync(path.join(dir, first), path.join(dir, 'blobs/sha256/layer0'));
  fs.symlinkSync('../blobs/sha256/layer0', path.join(dir, first));
  const ok = cliImport(work, dataRoot, dir, 'inside');
  t.equal(ok.status, 0, `a link inside the image is followed (${ok.stderr.trim()})`);
});
