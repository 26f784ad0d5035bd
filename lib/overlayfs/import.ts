// importImage: source -> verified metadata -> each missing layer extracted, verified, committed -> record.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { ImageError } from './errors';
import { HashingStream, verifyDigest } from './digest';
import { LayerWriter, type EntryHeader } from './extract';
import { checkImageName, writeImage } from './images';
import { commitLayer, ensureLink, ensureStore, hasLayer, newTempLayer } from './layer-store';
import { withStoreLock } from './lock';
import { resolveImage, type LayerRef } from './manifest';
import { openSource, type ImageSource } from './source';
import type { ImageRecord } from './types';

export interface ImportOptions {
  name?: string;
  progress?: (done: number, total: number) => void;
  /** warnings that do not stop the import (skipped xattrs) */
  warn?: (message: string) => void;
}

async function peek(source: ImageSource, name: string, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of source.open(name, { start: 0, end: n - 1 })) chunks.push(c as Buffer);
  return Buffer.concat(chunks).subarray(0, n);
}

/** Layers are gzip or plain tar; the media type is not trusted, the magic bytes decide. */
async function decompressor(source: ImageSource, layer: LayerRef): Promise<NodeJS.ReadWriteStream | undefined> {
  const magic = await peek(source, layer.path, 4);
  if (magic[0] === 0x1f && magic[1] === 0x8b) return (await import('node:zlib')).createGunzip();
  if (magic.equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) {
    throw new ImageError(`layer ${layer.digest ?? layer.path}: zstd-compressed layers are not supported`);
  }
  return undefined;
}

async function blobDigest(source: ImageSource, name: string): Promise<string> {
  const hash = new HashingStream();
  const { pipeline } = await import('node:stream/promises');
  await pipeline(source.open(name), hash, async function* (chunks: AsyncIterable<unknown>) {
    for await (const c of chunks) void c;
  });
  return hash.digest();
}

/** Streams a layer blob once: hash of the blob, gunzip, hash of the tar (diff_id), extraction. */
async function extractLayer(source: ImageSource, layer: LayerRef, dir: string, onBytes: (n: number) => void, warn: (m: string) => void): Promise<void> {
  const tar = await import('tar-stream');
  const { pipeline } = await import('node:stream/promises');
  const blobHash = new HashingStream(onBytes);
  const diffHash = new HashingStream();
  const gunzip = await decompressor(source, layer);
  const extract = tar.extract();
  const raw: Readable = source.open(layer.path);
  const stages: NodeJS.ReadWriteStream[] = gunzip ? [blobHash, gunzip, diffHash] : [blobHash, diffHash];
  const feed = pipeline(raw, ...(stages as [NodeJS.ReadWriteStream]), extract as unknown as NodeJS.WritableStream);
  const writer = new LayerWriter(dir);
  const what = `layer ${layer.digest ?? layer.path}`;
  try {
    for await (const entry of extract) await writer.entry(entry.header as EntryHeader, entry);
    await feed;
  } catch (e) {
    raw.destroy();
    extract.destroy();
    await feed.catch(() => undefined);
    // a corrupt blob usually fails inside gunzip or the tar parser first: name the real cause
    if (layer.digest) {
      const actual = await blobDigest(source, layer.path).catch(() => layer.digest as string);
      verifyDigest(`blob ${layer.path}`, layer.digest, actual);
    }
    throw new ImageError(`${what}: ${(e as Error).message}`, { cause: e });
  }
  await writer.finish();
  if (layer.digest) verifyDigest(`blob ${layer.path}`, layer.digest, blobHash.digest());
  verifyDigest(`${what} (uncompressed, rootfs.diff_ids)`, layer.diffId, diffHash.digest());
  for (const x of writer.stats.skippedXattrs) warn(`${what}: skipped xattr ${x}`);
}

export async function importImage(dataRoot: string, sourcePath: string, opts: ImportOptions = {}): Promise<ImageRecord> {
  const source = await openSource(sourcePath);
  const image = await resolveImage(source, opts.name);
  const name = checkImageName(opts.name ?? image.suggestedName ?? path.basename(sourcePath).replace(/\.(tar|oci|docker)$/, ''));
  await ensureStore(dataRoot);
  return withStoreLock(dataRoot, 'shared', async () => {
    const total = image.layers.reduce((s, l) => s + l.size, 0);
    let done = 0;
    const tick = (n: number): void => {
      done += n;
      opts.progress?.(done, total);
    };
    // all layers are extracted and verified before any is committed: a bad blob leaves nothing behind
    const staged: { tmp: string; diffId: string }[] = [];
    try {
      for (const layer of image.layers) {
        if (hasLayer(dataRoot, layer.diffId) || staged.some((s) => s.diffId === layer.diffId)) {
          // content-addressed: the same diff_id is the same tree, already verified when it was stored
          tick(layer.size);
          continue;
        }
        const tmp = await newTempLayer(dataRoot);
        staged.push({ tmp, diffId: layer.diffId });
        await extractLayer(source, layer, tmp, tick, opts.warn ?? (() => undefined));
      }
      for (const s of staged) await commitLayer(dataRoot, s.tmp, s.diffId);
      for (const layer of image.layers) await ensureLink(dataRoot, layer.diffId);
    } catch (e) {
      for (const s of staged) await fsp.rm(s.tmp, { recursive: true, force: true });
      throw e;
    }
    const record: ImageRecord = {
      name,
      id: image.configDigest,
      manifestDigest: image.manifestDigest,
      platform: image.platform,
      config: image.config,
      layers: image.layers.map((l) => l.diffId),
      size: total,
      ...(image.created ? { created: image.created } : {}),
      importedAt: new Date().toISOString(),
    };
    await writeImage(dataRoot, record);
    return record;
  });
}
