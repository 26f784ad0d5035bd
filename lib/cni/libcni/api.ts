// The runtime side of CNI (the reference's libcni): run a network list's plugins for an attachment,
// in order for ADD (each gets the previous result), in reverse for DEL (with the cached ADD result),
// and CHECK, GC and STATUS as the spec describes. Results are cached per attachment.
import { CniError, ErrIncompatibleVersion, ErrInternal, ErrUnknownContainer } from '../errors';
import { execPlugin } from '../invoke';
import type { Attachment, Result } from '../types';
import { compareVersions, parseResult } from '../version';
import { CacheEntry, DEFAULT_CACHE_DIR, listCache, readCache, removeCache, writeCache } from './cache';
import type { NetworkList } from './conf';
import { buildPluginConf } from './runtime-config';

export interface RuntimeConf {
  containerId: string;
  netns: string;
  ifname: string;
  /** CNI_ARGS, as pairs (order kept) or a record */
  args?: [string, string][] | Record<string, string>;
  /** values for plugins' declared capabilities: portMappings, ips, mac, bandwidth, ... */
  capabilityArgs?: Record<string, unknown>;
  cniPath: string[];
  /** default /var/lib/cni (results go to <cacheDir>/results) */
  cacheDir?: string;
}

function argPairs(args: RuntimeConf['args']): [string, string][] {
  if (!args) return [];
  return Array.isArray(args) ? args : Object.entries(args);
}

function env(command: string, rt: RuntimeConf): Record<string, string> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: rt.containerId,
    CNI_NETNS: rt.netns,
    CNI_IFNAME: rt.ifname,
    CNI_ARGS: argPairs(rt.args).map(([k, v]) => `${k}=${v}`).join(';'),
    CNI_PATH: rt.cniPath.join(':'),
  };
}

function stdin(conf: object): Buffer {
  return Buffer.from(JSON.stringify(conf));
}

function atLeast(list: NetworkList, version: string): boolean {
  return compareVersions(list.cniVersion, version) >= 0;
}

function listBytes(list: NetworkList): string {
  const { name, cniVersion, disableCheck, disableGC, plugins } = list;
  return Buffer.from(JSON.stringify({ cniVersion, name, disableCheck, disableGC, plugins })).toString('base64');
}

/** Runs every plugin's ADD in order; caches and returns the last result (1.1.0 shape). */
export async function addNetworkList(list: NetworkList, rt: RuntimeConf): Promise<Result> {
  let prev: Record<string, unknown> | undefined;
  for (const plugin of list.plugins) {
    const conf = buildPluginConf(plugin, list, rt.capabilityArgs, prev);
    const out = await execPlugin(plugin.type, rt.cniPath, env('ADD', rt), stdin(conf));
    if (out === undefined) throw new CniError(ErrUnknownContainer, `${plugin.type}: ADD printed no result`);
    parseResult(out); // validates; the raw JSON (in the list's version) is what the next plugin gets
    prev = out as Record<string, unknown>;
  }
  const entry: CacheEntry = {
    kind: 'cniCacheV1',
    containerId: rt.containerId,
    config: listBytes(list),
    ifName: rt.ifname,
    networkName: list.name,
    netns: rt.netns || undefined,
    cniArgs: argPairs(rt.args).length ? argPairs(rt.args) : undefined,
    capabilityArgs: rt.capabilityArgs,
    result: prev,
  };
  writeCache(rt.cacheDir ?? DEFAULT_CACHE_DIR, entry);
  return parseResult(prev);
}

/** The result cached by the last ADD of this attachment, if any. */
export function getCachedResult(list: NetworkList, rt: RuntimeConf): Result | undefined {
  const e = readCache(rt.cacheDir ?? DEFAULT_CACHE_DIR, list.name, rt.containerId, rt.ifname);
  return e?.result ? parseResult(e.result) : undefined;
}

/** Runs every plugin's DEL in reverse order with the cached result, then forgets the attachment. */
export async function delNetworkList(list: NetworkList, rt: RuntimeConf): Promise<void> {
  const cacheDir = rt.cacheDir ?? DEFAULT_CACHE_DIR;
  // prevResult on DEL arrived with 0.4.0
  const cached = atLeast(list, '0.4.0') ? readCache(cacheDir, list.name, rt.containerId, rt.ifname)?.result : undefined;
  for (const plugin of [...list.plugins].reverse()) {
    const conf = buildPluginConf(plugin, list, rt.capabilityArgs, cached);
    await execPlugin(plugin.type, rt.cniPath, env('DEL', rt), stdin(conf));
  }
  removeCache(cacheDir, list.name, rt.containerId, rt.ifname);
}

export async function checkNetworkList(list: NetworkList, rt: RuntimeConf): Promise<void> {
  if (!atLeast(list, '0.4.0')) {
    throw new CniError(ErrIncompatibleVersion, `${list.source}: cniVersion ${list.cniVersion} does not support CHECK (needs 0.4.0)`);
  }
  if (list.disableCheck) return;
  const cached = readCache(rt.cacheDir ?? DEFAULT_CACHE_DIR, list.name, rt.containerId, rt.ifname)?.result;
  if (!cached) {
    throw new CniError(ErrUnknownContainer, `no cached result for ${list.name}/${rt.containerId}/${rt.ifname}: was it added?`);
  }
  for (const plugin of list.plugins) {
    const conf = buildPluginConf(plugin, list, rt.capabilityArgs, cached);
    await execPlugin(plugin.type, rt.cniPath, env('CHECK', rt), stdin(conf));
  }
}

/**
 * Removes everything of this network not in `validAttachments`: cached attachments that are not valid
 * get a full DEL; then, for 1.1.0 lists, every plugin gets GC with the valid list.
 * Errors are collected so one stale attachment does not block the rest.
 */
export async function gcNetworkList(
  list: NetworkList, validAttachments: Attachment[], opts: { cniPath: string[]; cacheDir?: string },
): Promise<void> {
  if (list.disableGC) return;
  const cacheDir = opts.cacheDir ?? DEFAULT_CACHE_DIR;
  const valid = new Set(validAttachments.map((a) => `${a.containerID}\0${a.ifname}`));
  const errors: string[] = [];
  for (const e of listCache(cacheDir, list.name)) {
    if (valid.has(`${e.containerId}\0${e.ifName}`)) continue;
    try {
      await delNetworkList(list, {
        containerId: e.containerId, ifname: e.ifName, netns: e.netns ?? '', args: e.cniArgs,
        capabilityArgs: e.capabilityArgs, cniPath: opts.cniPath, cacheDir,
      });
    } catch (err) {
      errors.push(`DEL ${e.containerId}/${e.ifName}: ${(err as Error).message}`);
    }
  }
  if (atLeast(list, '1.1.0')) {
    const gcEnv = { CNI_COMMAND: 'GC', CNI_PATH: opts.cniPath.join(':') };
    for (const plugin of list.plugins) {
      const conf = buildPluginConf(plugin, list, undefined, undefined, { 'cni.dev/valid-attachments': validAttachments });
      try {
        await execPlugin(plugin.type, opts.cniPath, gcEnv, stdin(conf));
      } catch (err) {
        errors.push(`GC ${plugin.type}: ${(err as Error).message}`);
      }
    }
  }
  if (errors.length) throw new CniError(ErrInternal, `gc of ${list.name}: ${errors.join('; ')}`);
}

/** Asks every plugin whether it can take ADDs (1.1.0 lists; older ones have no STATUS and pass). */
export async function statusNetworkList(list: NetworkList, opts: { cniPath: string[] }): Promise<void> {
  if (!atLeast(list, '1.1.0')) return;
  for (const plugin of list.plugins) {
    const conf = buildPluginConf(plugin, list);
    await execPlugin(plugin.type, opts.cniPath, { CNI_COMMAND: 'STATUS', CNI_PATH: opts.cniPath.join(':') }, stdin(conf));
  }
}
