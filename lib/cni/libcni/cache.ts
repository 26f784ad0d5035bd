// The result cache, in the reference libcni's layout so tools that read it agree:
//   <cacheDir>/results/<network>-<containerID>-<ifname>   {"kind":"cniCacheV1", ...}
// DEL and CHECK read the ADD result back from here to pass it as prevResult.
import fs = require('node:fs');
import path = require('node:path');
import { readFileIfExists, writeFileAtomicSync } from '../../util/fs';

export const DEFAULT_CACHE_DIR = '/var/lib/cni';

export interface CacheEntry {
  kind: 'cniCacheV1';
  containerId: string;
  /** the list's config bytes, base64 (Go's []byte JSON encoding) */
  config: string;
  ifName: string;
  networkName: string;
  netns?: string;
  cniArgs?: [string, string][];
  capabilityArgs?: Record<string, unknown>;
  /** the final result, in the list's cniVersion */
  result?: Record<string, unknown>;
}

export function cacheFile(cacheDir: string, network: string, containerId: string, ifname: string): string {
  return path.join(cacheDir, 'results', `${network}-${containerId}-${ifname}`);
}

export function writeCache(cacheDir: string, entry: CacheEntry): void {
  const file = cacheFile(cacheDir, entry.networkName, entry.containerId, entry.ifName);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomicSync(file, JSON.stringify(entry), 0o600);
}

export function readCache(cacheDir: string, network: string, containerId: string, ifname: string): CacheEntry | undefined {
  const text = readFileIfExists(cacheFile(cacheDir, network, containerId, ifname));
  if (text === undefined) return undefined;
  try {
    const e = JSON.parse(text) as CacheEntry;
    return e.kind === 'cniCacheV1' ? e : undefined;
  } catch {
    // a torn or foreign file is as good as none: DEL must still proceed
    return undefined;
  }
}

export function removeCache(cacheDir: string, network: string, containerId: string, ifname: string): void {
  fs.rmSync(cacheFile(cacheDir, network, containerId, ifname), { force: true });
}

/** Every cached attachment of `network` (for GC). */
export function listCache(cacheDir: string, network: string): CacheEntry[] {
  let names: string[];
  try {
    names = fs.readdirSync(path.join(cacheDir, 'results'));
  } catch {
    return [];
  }
  const out: CacheEntry[] = [];
  for (const n of names) {
    if (!n.startsWith(`${network}-`)) continue;
    const text = readFileIfExists(path.join(cacheDir, 'results', n));
    try {
      const e = text ? (JSON.parse(text) as CacheEntry) : undefined;
      if (e?.kind === 'cniCacheV1' && e.networkName === network) out.push(e);
    } catch {
      // skip what is not ours
    }
  }
  return out;
}
