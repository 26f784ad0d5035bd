// The node settings a network plugin reads: the subnet.json that `berth agent` writes (lib/cni/agent/
// settings.ts), found through the network config's "subnetFile".
import fs = require('node:fs');
import path = require('node:path');
import { CniError, ErrInvalidNetworkConfig, ErrTryAgainLater } from '../errors';
import type { NetConf } from '../types';
import { invalid, optString } from './common-config';
import type { NodeSettings } from '../agent/settings';

export const DEFAULT_SUBNET_FILE = '/run/berth/agent/subnet.json';

/** The network config's subnetFile, absolute, or the agent's default. */
export function settingsFile(conf: NetConf): string {
  const f = optString(conf as Record<string, unknown>, 'subnetFile') ?? DEFAULT_SUBNET_FILE;
  if (!path.isAbsolute(f)) invalid('subnetFile', `"${f}" must be an absolute path`);
  return f;
}

/** What each plugin needs of the file besides subnet and mtu. */
const NEEDS = {
  'berth-vxlan': { field: 'network', backend: undefined },
  'berth-bgp': { field: 'ipamDataDir', backend: 'bgp' },
} as const;

/** Reads and checks the file for `plugin`: a missing file is try-again-later (no agent yet, or no lease). */
export function readSettings(file: string, plugin: keyof typeof NEEDS): NodeSettings {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new CniError(ErrTryAgainLater, `subnetFile: cannot read ${file} (is berth agent running on this node?): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const fail = (msg: string): never => { throw new CniError(ErrInvalidNetworkConfig, `subnetFile: ${file}: ${msg}`); };
  let s: NodeSettings;
  try {
    s = JSON.parse(text) as NodeSettings;
  } catch (e) {
    return fail((e as Error).message);
  }
  const { field, backend } = NEEDS[plugin];
  if (typeof s?.subnet !== 'string' || typeof s.mtu !== 'number' || typeof s[field] !== 'string') fail(`missing subnet, mtu or ${field}`);
  if (backend && s.backend !== backend) fail(`the agent runs the "${s.backend}" backend, ${plugin} needs "${backend}"`);
  return s;
}
