// Loading network configurations for the runtime side: a .conflist (a chain of plugins) or a single
// .conf (one plugin, wrapped into a list), by file path or by network name from a directory.
import fs = require('node:fs');
import path = require('node:path');
import { CniError, ErrDecodingFailure, ErrIncompatibleVersion, ErrInvalidNetworkConfig } from '../errors';
import { highestCommon, isValidVersion, SUPPORTED_VERSIONS } from '../version';

export const DEFAULT_CONF_DIR = '/etc/cni/net.d';

/** One plugin's configuration as written in the file (name and cniVersion come from the list). */
export type PluginConf = Record<string, unknown> & { type: string; capabilities?: Record<string, boolean> };

export interface NetworkList {
  name: string;
  cniVersion: string;
  disableCheck: boolean;
  disableGC: boolean;
  plugins: PluginConf[];
  /** where it was loaded from, for messages */
  source: string;
}

function fail(source: string, field: string, msg: string): never {
  throw new CniError(ErrInvalidNetworkConfig, `${source}: ${field}: ${msg}`);
}

function bool(v: unknown, source: string, field: string): boolean {
  // the reference also accepts the strings "true"/"false"
  if (v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  return fail(source, field, 'expected a boolean');
}

/** Picks the list's version: the highest of `cniVersions` that berth supports, else `cniVersion`. */
function pickVersion(o: Record<string, unknown>, source: string): string {
  if (o.cniVersions !== undefined) {
    if (!Array.isArray(o.cniVersions) || !o.cniVersions.every(isValidVersion)) fail(source, 'cniVersions', 'expected an array of versions');
    const v = highestCommon(o.cniVersions as string[]);
    if (v) return v;
    if (o.cniVersion === undefined) {
      throw new CniError(ErrIncompatibleVersion, `${source}: cniVersions: none of [${(o.cniVersions as string[]).join(' ')}] is supported`);
    }
  }
  if (!isValidVersion(o.cniVersion)) fail(source, 'cniVersion', `missing or invalid version ${JSON.stringify(o.cniVersion)}`);
  if (!SUPPORTED_VERSIONS.includes(o.cniVersion)) {
    throw new CniError(ErrIncompatibleVersion, `${source}: cniVersion: ${o.cniVersion} is not supported (supported: ${SUPPORTED_VERSIONS.join(' ')})`);
  }
  return o.cniVersion;
}

/** Parses conflist or conf JSON text. */
export function parseNetworkList(text: string, source = 'config'): NetworkList {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw new CniError(ErrDecodingFailure, `${source}: ${(e as Error).message}`);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new CniError(ErrDecodingFailure, `${source}: expected a JSON object`);
  if (typeof o.name !== 'string' || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(o.name)) {
    fail(source, 'name', `missing or invalid network name ${JSON.stringify(o.name)}`);
  }
  const cniVersion = pickVersion(o, source);
  let plugins: unknown[];
  if (o.plugins !== undefined) {
    if (!Array.isArray(o.plugins) || o.plugins.length === 0) fail(source, 'plugins', 'expected a non-empty array');
    plugins = o.plugins;
  } else if (typeof o.type === 'string') {
    // a single plugin .conf: the whole object is the plugin's config
    plugins = [o];
  } else {
    return fail(source, 'plugins', 'missing (neither a conflist with plugins nor a conf with type)');
  }
  plugins.forEach((p, i) => {
    if (typeof p !== 'object' || p === null || typeof (p as PluginConf).type !== 'string' || !(p as PluginConf).type) {
      fail(source, `plugins[${i}].type`, 'missing plugin type');
    }
  });
  return {
    name: o.name,
    cniVersion,
    disableCheck: bool(o.disableCheck, source, 'disableCheck'),
    disableGC: bool(o.disableGC, source, 'disableGC'),
    plugins: plugins as PluginConf[],
    source,
  };
}

export function loadNetworkFile(file: string): NetworkList {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new CniError(ErrInvalidNetworkConfig, `${file}: cannot read: ${(e as Error).message}`);
  }
  return parseNetworkList(text, file);
}

/** Config files of a directory in the order the reference uses: sorted by name. */
export function configFiles(dir: string = DEFAULT_CONF_DIR): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => /\.(conflist|conf|json)$/.test(n)).sort().map((n) => path.join(dir, n));
}

/** Loads by path (anything containing "/") or by network name from `dir`. */
export function loadNetworkList(pathOrName: string, dir: string = DEFAULT_CONF_DIR): NetworkList {
  if (pathOrName.includes('/')) return loadNetworkFile(pathOrName);
  for (const file of configFiles(dir)) {
    let list: NetworkList;
    try {
      list = loadNetworkFile(file);
    } catch {
      // a broken file elsewhere in the directory must not hide the network asked for
      continue;
    }
    if (list.name === pathOrName) return list;
  }
  throw new CniError(ErrInvalidNetworkConfig, `no network named "${pathOrName}" in ${dir}`);
}
