// Benchmark (run on demand, as root), two rows, each against plain `tar -x` of the same layer blobs:
//  1. an image of about 256 MB: 4 layers (two gzip, two plain) of many small files and some large ones;
//  2. one tar.gz layer of 100,000 small files: `berth image import` (the CLI, a fresh process) against
//     `tar -xzf` into a scratch dir, alternated, medians of a few runs.
// Usage: node dist/bench/image-import.js [MB] [--files N] [--runs N] [--only small|big] [--before DIR] [--keep]
// (--before DIR: also time DIR/bin/berth, another installation, e.g. a build of main, in the same run)
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as zlib from 'node:zlib';
import { importImage } from '../lib/overlayfs';
import { buildTar, machineArch, sha256, type TarEntry } from '../test/helpers/image-builder';
import { stats } from './harness';

interface Layer { blob: Buffer; digest: string; diffId: string; gzip: boolean }

/** Compressible but not trivially so: random words, like text and binaries in real images. */
function content(size: number): Buffer {
  const words = randomBytes(size / 4).toString('base64');
  return Buffer.from(words.repeat(Math.ceil(size / words.length)).slice(0, size));
}

async function makeLayer(index: number, bytes: number, gzip: boolean): Promise<Layer> {
  const entries: TarEntry[] = [{ name: `l${index}/`, type: 'directory' }];
  let total = 0;
  for (let i = 0; total < bytes; i++) {
    // nine of ten files are small (4 KiB), the tenth is 1 MiB: many entries and much data
    const size = i % 10 === 9 ? 1 << 20 : 4096;
    if (i % 100 === 0) entries.push({ name: `l${index}/d${i / 100}/`, type: 'directory' });
    entries.push({ name: `l${index}/d${Math.floor(i / 100)}/f${i}`, content: content(size), mode: 0o644 });
    total += size;
  }
  const tar = await buildTar(entries);
  const blob = gzip ? zlib.gzipSync(tar, { level: 1 }) : tar;
  return { blob, digest: sha256(blob), diffId: sha256(tar), gzip };
}

function writeLayout(dir: string, layers: Layer[]): void {
  const blobs = path.join(dir, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });
  const put = (data: Buffer): string => {
    const d = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    fs.writeFileSync(path.join(blobs, d.slice(7)), data);
    return d;
  };
  for (const l of layers) fs.writeFileSync(path.join(blobs, l.digest.slice(7)), l.blob);
  const config = Buffer.from(JSON.stringify({ architecture: machineArch(), os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: put(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: `application/vnd.oci.image.layer.v1.tar${l.gzip ? '+gzip' : ''}`, digest: l.digest, size: l.blob.length })),
  }));
  const md = put(manifest);
  fs.writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: md, size: manifest.length }] }));
}

function dropCaches(): void {
  // best effort: both runs should start from the same cache state; the data was just written either way
  try { execFileSync('sync'); } catch { /* ignore */ }
}

/** 100k files of 0-2 KiB in 100 directories, like the many small files of a distribution's /usr. */
async function makeSmallFilesLayer(files: number): Promise<Layer> {
  const entries: TarEntry[] = [{ name: 'usr/', type: 'directory' }];
  const text = content(1 << 16);
  for (let i = 0; i < files; i++) {
    if (i % 1000 === 0) entries.push({ name: `usr/d${i / 1000}/`, type: 'directory' });
    const size = (i * 7919) % 2048;
    const at = (i * 104729) % (text.length - size);
    entries.push({ name: `usr/d${Math.floor(i / 1000)}/file-${i}`, content: text.subarray(at, at + size), mode: i % 5 === 0 ? 0o755 : 0o644 });
  }
  const tar = await buildTar(entries);
  const blob = zlib.gzipSync(tar, { level: 6 });
  return { blob, digest: sha256(blob), diffId: sha256(tar), gzip: true };
}

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

/** CPU seconds (user + system) of this process's waited-for children so far (/proc/self/stat, in ticks). */
function childCpuSeconds(): number {
  const fields = fs.readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100; // cutime, cstime; USER_HZ is 100 on Linux
}

interface Side { name: string; wall: number[]; cpu: number[]; run: (r: number) => () => void }

async function smallFilesRow(work: string): Promise<void> {
  const files = flag('--files', 100_000);
  const runs = flag('--runs', 3);
  const before = process.argv.includes('--before') ? process.argv[process.argv.indexOf('--before') + 1] : undefined;
  const t0 = performance.now();
  const layer = await makeSmallFilesLayer(files);
  const layout = path.join(work, 'small-layout');
  writeLayout(layout, [layer]);
  const blob = path.join(layout, 'blobs', 'sha256', layer.digest.slice(7));
  console.log(`small files: ${files} files in one tar.gz layer of ${(layer.blob.length / 1048576).toFixed(1)} MB, built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const berthImport = (install: string) => (r: number) => () => {
    const dataRoot = path.join(work, `small-data-${r}`);
    execFileSync(process.execPath, [path.join(install, 'bin', 'berth'), 'image', '--data-root', dataRoot, 'import', '--name', 'small', layout], { stdio: ['ignore', 'ignore', 'inherit'] });
  };
  const sides: Side[] = [
    { name: 'tar -xzf', wall: [], cpu: [], run: (r) => () => execFileSync('tar', ['-xzf', blob, '-C', path.join(work, `small-data-${r}`), '--same-owner', '--xattrs']) },
    { name: 'berth image import', wall: [], cpu: [], run: berthImport(path.join(__dirname, '..', '..')) },
  ];
  // --before DIR: the same command from another installation (the code before a change), in the same run
  if (before) sides.push({ name: `before (${before})`, wall: [], cpu: [], run: berthImport(before) });
  for (let r = 0; r < runs; r++) {
    for (const side of sides) {
      const scratch = path.join(work, `small-data-${r}`);
      fs.mkdirSync(scratch);
      dropCaches();
      const cpu0 = childCpuSeconds();
      const t = performance.now();
      side.run(r)();
      side.wall.push(performance.now() - t);
      side.cpu.push(childCpuSeconds() - cpu0);
      // keep the disk from filling up over runs: each side's tree is removed untimed
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }
  if (runs === 0) return;
  const median = (xs: number[]): number => stats('', xs).median;
  for (const side of sides) {
    console.log(`${side.name.padEnd(20)} median ${(median(side.wall) / 1000).toFixed(2)} s wall, ${median(side.cpu).toFixed(2)} s CPU  (wall ${side.wall.map((m) => (m / 1000).toFixed(2)).join(', ')})`);
  }
  const [tar, ours] = sides;
  console.log(`ratio import / tar: ${(median(ours.wall) / median(tar.wall)).toFixed(2)} wall, ${(median(ours.cpu) / median(tar.cpu)).toFixed(2)} CPU (berth includes sha256 of the blob and the diff_id)`);
  if (before) console.log(`ratio before / tar: ${(median(sides[2].wall) / median(tar.wall)).toFixed(2)} wall, ${(median(sides[2].cpu) / median(tar.cpu)).toFixed(2)} CPU`);
}

async function main(): Promise<void> {
  const mb = Number(process.argv.slice(2).find((a, i, all) => /^\d+$/.test(a) && !all[i - 1]?.startsWith('--')) ?? 256);
  const keep = process.argv.includes('--keep');
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-import-'));
  try {
    if (only !== 'big') await smallFilesRow(work);
    if (only === 'small') return;
    const t0 = performance.now();
    const perLayer = Math.ceil((mb << 20) / 4);
    const layers: Layer[] = [];
    for (let i = 0; i < 4; i++) layers.push(await makeLayer(i, perLayer, i % 2 === 0));
    const layout = path.join(work, 'layout');
    writeLayout(layout, layers);
    const blobBytes = layers.reduce((s, l) => s + l.blob.length, 0);
    console.log(`image: ${mb} MB uncompressed, ${(blobBytes / 1048576).toFixed(0)} MB of blobs, built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    dropCaches();
    const tarRoot = path.join(work, 'tar');
    const t1 = performance.now();
    for (const [i, l] of layers.entries()) {
      const dir = path.join(tarRoot, String(i));
      fs.mkdirSync(dir, { recursive: true });
      const blob = path.join(layout, 'blobs', 'sha256', l.digest.slice(7));
      execFileSync('tar', [l.gzip ? '-xzf' : '-xf', blob, '-C', dir, '--same-owner', '--xattrs']);
    }
    const tarSeconds = (performance.now() - t1) / 1000;

    dropCaches();
    const dataRoot = path.join(work, 'data');
    const t2 = performance.now();
    await importImage(dataRoot, layout, { name: 'bench' });
    const importSeconds = (performance.now() - t2) / 1000;

    console.log(`tar -x:        ${tarSeconds.toFixed(2)} s  (${(mb / tarSeconds).toFixed(0)} MB/s)`);
    console.log(`berth import:  ${importSeconds.toFixed(2)} s  (${(mb / importSeconds).toFixed(0)} MB/s; includes sha256 of blobs and diff_ids)`);
    console.log(`ratio import / tar: ${(importSeconds / tarSeconds).toFixed(2)}`);
    if (keep) console.log(`kept ${work}`);
  } finally {
    if (!keep) fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
