// Finds the image in a source and checks its metadata: OCI layout (index -> manifest -> config) or
// docker-archive (manifest.json -> config). Every metadata blob is verified before it is parsed.
import { ImageError } from './errors';
import { checkDigest, sha256, verifyDigest } from './digest';
import { readAll, type ImageSource } from './source';
import type { ImageConfig } from './types';

export interface LayerRef {
  /** member path of the blob inside the source */
  path: string;
  /** digest the blob must have; undefined when the source names none (old docker-archive layer.tar) */
  digest?: string;
  diffId: string;
  size: number;
}

export interface ResolvedImage {
  manifestDigest: string;
  configDigest: string;
  config: ImageConfig;
  platform: { os: string; architecture: string; variant?: string };
  created?: string;
  layers: LayerRef[];
  /** name found in the source (ref.name annotation or RepoTags), used when no --name is given */
  suggestedName?: string;
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
}

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const REF_NAME = 'org.opencontainers.image.ref.name';

/** Node's process.arch -> the GOARCH names images use. */
export function machineArch(arch: string = process.arch): string {
  return ({ x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[arch] ?? arch;
}

function parseJson(data: Buffer, what: string): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch (e) {
    // V8's message quotes the start of the input: say where it broke, never what the bytes were
    const at = /at position \d+/.exec((e as Error).message);
    throw new ImageError(`${what} is not valid JSON${at ? ` (${at[0]})` : ''}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function blobPath(digest: string): string {
  return `blobs/${digest.replace(':', '/')}`;
}

async function readVerified(source: ImageSource, digest: string, what: string): Promise<Buffer> {
  const data = await readAll(source, blobPath(digest));
  verifyDigest(what, digest, sha256(data));
  return data;
}

/**
 * Picks the manifest for this machine from an index's descriptors: linux and our architecture when
 * platforms are given; the only entry when they are not.
 */
export function pickManifest(descriptors: Descriptor[], where: string, arch = machineArch()): Descriptor {
  if (descriptors.length === 0) throw new ImageError(`${where}: the index lists no manifests`);
  const withPlatform = descriptors.filter((d) => d.platform);
  if (withPlatform.length > 0) {
    const match = withPlatform.find((d) => d.platform?.os === 'linux' && d.platform?.architecture === arch);
    if (match) return match;
    const have = withPlatform.map((d) => `${d.platform?.os}/${d.platform?.architecture}`).join(', ');
    throw new ImageError(`${where}: no manifest for linux/${arch} (the index has ${have})`);
  }
  if (descriptors.length > 1) {
    throw new ImageError(`${where}: the index lists ${descriptors.length} manifests without platforms; cannot choose one`);
  }
  return descriptors[0];
}

function descriptors(index: unknown, what: string): Descriptor[] {
  if (!isObject(index) || !Array.isArray(index.manifests)) throw new ImageError(`${what}: no "manifests" array`);
  return index.manifests.map((d: unknown, i: number) => {
    if (!isObject(d)) throw new ImageError(`${what}: manifests[${i}] is not an object`);
    checkDigest(d.digest, `${what} manifests[${i}].digest`);
    return d as unknown as Descriptor;
  });
}

function parseConfig(data: Buffer, what: string, layerCount: number): { config: ImageConfig; diffIds: string[]; platform: ResolvedImage['platform']; created?: string } {
  const c = parseJson(data, what);
  if (!isObject(c) || !isObject(c.rootfs) || !Array.isArray(c.rootfs.diff_ids)) {
    throw new ImageError(`${what}: missing rootfs.diff_ids`);
  }
  const diffIds = c.rootfs.diff_ids.map((d: unknown, i: number) => checkDigest(d, `${what} rootfs.diff_ids[${i}]`));
  if (diffIds.length !== layerCount) {
    throw new ImageError(`${what}: rootfs.diff_ids has ${diffIds.length} entries but the manifest lists ${layerCount} layers`);
  }
  const cfg = isObject(c.config) ? c.config : {};
  const strings = (v: unknown): string[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined);
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const config: ImageConfig = {};
  if (strings(cfg.Entrypoint)) config.Entrypoint = strings(cfg.Entrypoint);
  if (strings(cfg.Cmd)) config.Cmd = strings(cfg.Cmd);
  if (strings(cfg.Env)) config.Env = strings(cfg.Env);
  if (str(cfg.WorkingDir)) config.WorkingDir = str(cfg.WorkingDir);
  if (str(cfg.User)) config.User = str(cfg.User);
  const platform = { os: String(c.os ?? 'linux'), architecture: String(c.architecture ?? 'unknown'), ...(typeof c.variant === 'string' ? { variant: c.variant } : {}) };
  return { config, diffIds, platform, created: typeof c.created === 'string' ? c.created : undefined };
}

async function resolveOci(source: ImageSource): Promise<ResolvedImage> {
  const where = source.location;
  const layout = parseJson(await readAll(source, 'oci-layout'), `${where}: oci-layout`);
  if (!isObject(layout) || typeof layout.imageLayoutVersion !== 'string') {
    throw new ImageError(`${where}: oci-layout has no imageLayoutVersion`);
  }
  let desc = pickManifest(descriptors(parseJson(await readAll(source, 'index.json'), `${where}: index.json`), `${where}: index.json`), `${where}: index.json`);
  const suggestedName = desc.annotations?.[REF_NAME];
  // nested indexes (a multi-platform image inside the layout's index)
  for (let depth = 0; INDEX_TYPES.has(desc.mediaType ?? ''); depth++) {
    if (depth > 4) throw new ImageError(`${where}: indexes nested too deep`);
    const what = `index ${desc.digest}`;
    desc = pickManifest(descriptors(parseJson(await readVerified(source, desc.digest, what), what), what), `${where}: ${what}`);
  }
  const manifestWhat = `manifest ${desc.digest}`;
  const manifest = parseJson(await readVerified(source, desc.digest, manifestWhat), manifestWhat);
  if (!isObject(manifest) || !isObject(manifest.config) || !Array.isArray(manifest.layers)) {
    throw new ImageError(`${where}: ${manifestWhat} has no config or layers`);
  }
  const configDigest = checkDigest(manifest.config.digest, `${manifestWhat} config.digest`);
  const layerDescs = manifest.layers.map((l: unknown, i: number) => {
    if (!isObject(l)) throw new ImageError(`${where}: ${manifestWhat} layers[${i}] is not an object`);
    return { digest: checkDigest(l.digest, `${manifestWhat} layers[${i}].digest`), size: typeof l.size === 'number' ? l.size : undefined, mediaType: String(l.mediaType ?? '') };
  });
  for (const l of layerDescs) {
    // foreign (non-distributable) layers are not in the layout: say so before extracting anything
    if (!(await source.exists(blobPath(l.digest)))) throw new ImageError(`${where}: missing layer blob ${blobPath(l.digest)}`);
    // a truncated (or swapped) blob is refused before anything is written
    const size = await source.size(blobPath(l.digest));
    if (l.size === undefined) l.size = size;
    else if (size !== l.size) throw new ImageError(`${where}: layer ${l.digest}: the blob is ${size} bytes, the manifest says ${l.size} (truncated or replaced)`);
  }
  const cfgWhat = `config ${configDigest}`;
  const parsed = parseConfig(await readVerified(source, configDigest, cfgWhat), `${where}: ${cfgWhat}`, layerDescs.length);
  return {
    manifestDigest: desc.digest,
    configDigest,
    config: parsed.config,
    platform: parsed.platform,
    created: parsed.created,
    suggestedName,
    layers: layerDescs.map((l, i) => ({ path: blobPath(l.digest), digest: l.digest, diffId: parsed.diffIds[i], size: l.size as number })),
  };
}

/** docker save: manifest.json lists Config and Layers as paths; paths under blobs/sha256/ carry their digest. */
async function resolveDocker(source: ImageSource, wanted?: string): Promise<ResolvedImage> {
  const where = source.location;
  const raw = await readAll(source, 'manifest.json');
  const list = parseJson(raw, `${where}: manifest.json`);
  if (!Array.isArray(list) || list.length === 0) throw new ImageError(`${where}: manifest.json lists no images`);
  const entry = (list.find((e) => isObject(e) && Array.isArray(e.RepoTags) && wanted !== undefined && e.RepoTags.includes(wanted)) ?? list[0]) as unknown;
  if (!isObject(entry) || typeof entry.Config !== 'string' || !Array.isArray(entry.Layers)) {
    throw new ImageError(`${where}: manifest.json entry has no Config or Layers`);
  }
  const digestOf = (p: string): string | undefined => {
    const m = /(?:^|\/)(?:blobs\/sha256\/)?([0-9a-f]{64})(?:\.json)?$/.exec(p);
    return m ? `sha256:${m[1]}` : undefined;
  };
  const configData = await readAll(source, entry.Config);
  const configDigest = sha256(configData);
  const named = digestOf(entry.Config);
  if (named) verifyDigest(`config ${entry.Config}`, named, configDigest);
  const layerPaths = entry.Layers.map((l: unknown, i: number) => {
    if (typeof l !== 'string') throw new ImageError(`${where}: manifest.json Layers[${i}] is not a path`);
    return l;
  });
  const parsed = parseConfig(configData, `${where}: ${entry.Config}`, layerPaths.length);
  const layers: LayerRef[] = [];
  for (const [i, p] of layerPaths.entries()) {
    // "<id>/layer.tar" names a layer id, not a content digest: only blobs/sha256/<hex> paths are checked
    const digest = /(^|\/)blobs\/sha256\/[0-9a-f]{64}$/.test(p) ? digestOf(p) : undefined;
    if (!(await source.exists(p))) throw new ImageError(`${where}: missing layer ${p}`);
    layers.push({ path: p, digest, diffId: parsed.diffIds[i], size: await source.size(p) });
  }
  const tags = Array.isArray(entry.RepoTags) ? entry.RepoTags.filter((x): x is string => typeof x === 'string') : [];
  return {
    manifestDigest: sha256(raw),
    configDigest,
    config: parsed.config,
    platform: parsed.platform,
    created: parsed.created,
    suggestedName: wanted && tags.includes(wanted) ? wanted : tags[0],
    layers,
  };
}

export async function resolveImage(source: ImageSource, wantedName?: string): Promise<ResolvedImage> {
  if (await source.exists('oci-layout')) return resolveOci(source);
  if (await source.exists('manifest.json')) return resolveDocker(source, wantedName);
  throw new ImageError(`${source.location}: neither an OCI layout (oci-layout, index.json) nor a docker-archive (manifest.json)`);
}
