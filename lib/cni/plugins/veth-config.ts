// berth-veth's network config: the reference ptp plugin's keys.
import type { GoShape } from '../goconf';
import type { NetConf } from '../types';
import { invalid, optBool, optInt, optMac, record } from './common-config';

export interface VethConfig {
  ipMasq: boolean;
  mtu?: number;
  mac?: string;
  ipamType: string;
}

/** The reference ptp plugin's NetConf keys that berth-veth reads. */
export const VETH_SHAPE: GoShape = { ipMasq: true, mtu: true, runtimeConfig: { mac: true } };

export function parseVethConfig(conf: NetConf): VethConfig {
  const c = conf as Record<string, unknown>;
  const ipam = conf.ipam;
  if (!ipam || typeof ipam !== 'object') invalid('ipam', 'missing IPAM configuration (berth-veth needs addresses)');
  if (typeof ipam.type !== 'string' || ipam.type === '') invalid('ipam.type', 'missing IPAM plugin type');
  return {
    ipMasq: optBool(c, 'ipMasq') ?? false,
    mtu: optInt(c, 'mtu', 68, 65535),
    mac: optMac(record(conf.runtimeConfig), 'mac', 'runtimeConfig.mac'),
    ipamType: ipam.type,
  };
}
