// Builds OCI images byte by byte with tar-stream: layer tars, an OCI layout directory, an oci-archive and a
// docker-archive of the same image. Used by the lab's busybox image and by tests (which also build hostile
// layers and corrupt digests on purpose).
import { createHash } from 'node:crypto';
import fs = require('node:fs');
import path = require('node:path');
import zlib = require('node:zlib');
import * as tar from 'tar-stream';

export type EntryType = 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';

export interface TarEntry {
  name: string;
  type?: EntryType;
  content?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

export interface LayerSpec {
  entries: TarEntry[];
  gzip?: boolean;
}

export interface BuiltLayer {
  blob: Buffer;
  digest: string;
  diffId: string;
  mediaType: string;
}

export interface BuiltImage {
  layers: BuiltLayer[];
  config: Buffer;
  configDigest: string;
  manifest: Buffer;
  manifestDigest: string;
}

export const MTIME = new Date('2024-01-02T03:04:05Z');

export function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export async function buildTar(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const content = type === 'file' ? Buffer.from(e.content ?? '') : undefined;
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : type === 'symlink' ? 0o777 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? MTIME,
      linkname: e.linkname,
      devmajor: e.devmajor ?? 0,
      devminor: e.devminor ?? 0,
      pax: e.pax,
      size: content?.length ?? 0,
    };
    await new Promise<void>((resolve, reject) => {
      pack.entry(header, content ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export async function buildLayer(spec: LayerSpec): Promise<BuiltLayer> {
  const tarData = await buildTar(spec.entries);
  const blob = spec.gzip ? zlib.gzipSync(tarData) : tarData;
  return {
    blob,
    digest: sha256(blob),
    diffId: sha256(tarData),
    mediaType: spec.gzip ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar',
  };
}

export interface ImageOptions {
  config?: { Entrypoint?: string[]; Cmd?: string[]; Env?: string[]; WorkingDir?: string; User?: string };
  architecture?: string;
  /** replace the diff_ids written into the config (to test the diff_id check) */
  diffIds?: string[];
}

export function machineArch(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch;
}

export async function buildImage(layers: LayerSpec[], opts: ImageOptions = {}): Promise<BuiltImage> {
  const built: BuiltLayer[] = [];
  for (const l of layers) built.push(await buildLayer(l));
  return assembleImage(built, opts);
}

/** The config and manifest around layers given as blobs (tests that hand-craft a blob's bytes). */
export function assembleImage(built: BuiltLayer[], opts: ImageOptions = {}): BuiltImage {
  const config = Buffer.from(JSON.stringify({
    created: MTIME.toISOString(),
    architecture: opts.architecture ?? machineArch(),
    os: 'linux',
    config: opts.config ?? { Cmd: ['/bin/sh'], Env: ['PATH=/usr/bin:/bin'], WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: opts.diffIds ?? built.map((l) => l.diffId) },
    history: built.map(() => ({ created: MTIME.toISOString(), created_by: 'image-builder' })),
  }));
  const configDigest = sha256(config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: built.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.blob.length })),
  }));
  return { layers: built, config, configDigest, manifest, manifestDigest: sha256(manifest) };
}

/** All files of an OCI layout, as relative path -> content. */
function layoutFiles(img: BuiltImage, tag: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const blob = (digest: string, data: Buffer): void => void files.set(`blobs/sha256/${digest.slice(7)}`, data);
  files.set('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  files.set('index.json', Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: img.manifestDigest,
      size: img.manifest.length,
      annotations: { 'org.opencontainers.image.ref.name': tag },
    }],
  })));
  blob(img.manifestDigest, img.manifest);
  blob(img.configDigest, img.config);
  for (const l of img.layers) blob(l.digest, l.blob);
  return files;
}

export function writeOciLayout(img: BuiltImage, dir: string, tag = 'latest'): void {
  for (const [name, data] of layoutFiles(img, tag)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), data);
  }
}

/**
 * A layout whose index.json points at a nested image index listing one manifest per platform, the way
 * multi-platform images are stored.
 */
export function writeMultiPlatformLayout(images: { img: BuiltImage; architecture: string }[], dir: string, tag = 'latest'): string {
  const nested = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: images.map(({ img, architecture }) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: img.manifestDigest,
      size: img.manifest.length,
      platform: { os: 'linux', architecture },
    })),
  }));
  const nestedDigest = sha256(nested);
  for (const { img } of images) writeOciLayout(img, dir, tag);
  fs.writeFileSync(path.join(dir, 'blobs/sha256', nestedDigest.slice(7)), nested);
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{
      mediaType: 'application/vnd.oci.image.index.v1+json',
      digest: nestedDigest,
      size: nested.length,
      annotations: { 'org.opencontainers.image.ref.name': tag },
    }],
  }));
  return nestedDigest;
}

async function writeArchive(files: Map<string, Buffer>, file: string): Promise<void> {
  const entries: TarEntry[] = [];
  const dirs = new Set<string>();
  for (const name of files.keys()) {
    for (let d = path.posix.dirname(name); d !== '.'; d = path.posix.dirname(d)) dirs.add(d);
  }
  for (const d of [...dirs].sort()) entries.push({ name: `${d}/`, type: 'directory' });
  for (const [name, content] of files) entries.push({ name, content });
  fs.writeFileSync(file, await buildTar(entries));
}

export async function writeOciArchive(img: BuiltImage, file: string, tag = 'latest'): Promise<void> {
  await writeArchive(layoutFiles(img, tag), file);
}

/** The classic `docker save` shape: manifest.json, <config hex>.json, <layer id>/layer.tar. */
export async function writeDockerArchive(img: BuiltImage, file: string, repoTag = 'test/image:latest'): Promise<void> {
  const files = new Map<string, Buffer>();
  const configName = `${img.configDigest.slice(7)}.json`;
  files.set(configName, img.config);
  const layerNames: string[] = [];
  img.layers.forEach((l, i) => {
    // docker's layer ids are chain-derived; any stable id will do, the import must not rely on them
    const name = `${createHash('sha256').update(`layer-${i}-${l.diffId}`).digest('hex')}/layer.tar`;
    files.set(name, l.blob);
    layerNames.push(name);
  });
  files.set('manifest.json', Buffer.from(JSON.stringify([{ Config: configName, RepoTags: [repoTag], Layers: layerNames }])));
  files.set('repositories', Buffer.from(JSON.stringify({})));
  await writeArchive(files, file);
}

/**
 * The two-layer image the tests check: layer 1 is a base tree; layer 2 adds, changes, deletes (whiteout),
 * makes data/ opaque, adds a hardlink, a symlink, a char device 1:3, a fifo and a file with an xattr.
 */
