// Benchmark (run on demand, as root): importing an image of about 256 MB into the layer store, against
// plain `tar -x` of the same layer blobs. Usage: node dist/bench/image-import.js [MB] [--keep]
// The image is generated here: 4 layers (two gzip, two plain) of many small files and some large ones.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as zlib from 'node:zlib';
import { importImage } from '../lib/overlayfs';
import { buildTar, machineArch, sha256, type TarEntry } from '../test/helpers/image-builder';

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

async function main(): Promise<void> {
  const mb = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 256);
  const keep = process.argv.includes('--keep');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-import-'));
  try {
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
