// importImage: source -> verified metadata -> each missing layer extracted, verified, committed -> record.
import { createHash } from 'node:crypto';
import fsp = require('node:fs/promises');
import path = require('node:path');
import { ImageError } from './errors';
import { HashingStream, verifyDigest } from './digest';
import { LayerWriter } from './extract';
import { checkImageName, writeImage } from './images';
import { commitLayer, ensureLink, ensureStore, hasLayer, newTempLayer } from './layer-store';
import { withStoreLock } from './lock';
import { resolveImage, type LayerRef } from './manifest';
import { openSource, type ImageSource } from './source';
import { TarParser } from './tar-parser';
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
  if (magic[0] === 0x1f && magic[1] === 0x8b) return (await import('node:zlib')).createGunzip({ chunkSize: 256 << 10 });
  if (magic.equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) {
    throw new ImageError(`layer ${layer.digest ?? layer.path}: zstd-compressed layers are not supported`);
  }
  return undefined;
}

async function blobDigest(source: ImageSource, name: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const c of source.open(name)) hash.update(c as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** The cause of a failed extraction, in one line: zlib and fs errors carry a code, ours are ImageErrors. */
function describe(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'Z_BUF_ERROR' || err.code === 'ERR_STREAM_PREMATURE_CLOSE') return 'the gzip stream is truncated (unexpected end of file)';
  if (typeof err.code === 'string' && err.code.startsWith('Z_')) return `gzip: ${err.message}`;
  return err.message ?? String(e);
}

/** Streams a layer blob once: hash of the blob, gunzip, hash of the tar (diff_id), extraction. */
async function extractLayer(source: ImageSource, layer: LayerRef, dir: string, onBytes: (n: number) => void, warn: (m: string) => void): Promise<void> {
  const { pipeline } = await import('node:stream/promises');
  const what = `layer ${layer.digest ?? layer.path}`;
  const blobHash = new HashingStream(onBytes);
  const diffHash = createHash('sha256');
  const gunzip = await decompressor(source, layer);
  const writer = new LayerWriter(dir);
  const parser = new TarParser(writer);
  // pipeline() reports its own AbortError when the last stage throws: keep the real cause
  let failure: unknown;
  const extract = async (chunks: AsyncIterable<Buffer | string>): Promise<void> => {
    try {
      for await (const chunk of chunks) {
        diffHash.update(chunk);
        parser.push(chunk as Buffer);
      }
      parser.finish();
    } catch (e) {
      failure ??= e;
      throw e;
    }
  };
  try {
    const stages = gunzip ? [blobHash, gunzip] : [blobHash];
    await pipeline(source.open(layer.path), ...(stages as [NodeJS.ReadWriteStream]), extract);
    writer.finish();
  } catch (e) {
    writer.abort();
    // a corrupt blob usually fails inside gunzip or the tar parser first: name the real cause
    if (layer.digest) {
      const actual = await blobDigest(source, layer.path).catch(() => layer.digest as string);
      verifyDigest(`blob ${layer.path}`, layer.digest, actual);
    }
    const cause = failure ?? e;
    throw new ImageError(`${what}: ${describe(cause)}`, { cause });
  }
  if (layer.digest) verifyDigest(`blob ${layer.path}`, layer.digest, blobHash.digest());
  verifyDigest(`${what} (uncompressed, rootfs.diff_ids)`, layer.diffId, `sha256:${diffHash.digest('hex')}`);
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
