// berth-bridge's network config: the reference bridge plugin's keys, validated into a typed value.
import type { GoShape } from '../goconf';
import type { NetConf } from '../types';
import { invalid, optBool, optIfname, optInt, optMac, record } from './common-config';

export interface BridgeConfig {
  bridge: string;
  isGateway: boolean;
  isDefaultGateway: boolean;
  forceAddress: boolean;
  ipMasq: boolean;
  mtu?: number;
  hairpinMode: boolean;
  promiscMode: boolean;
  vlan?: number;
  macspoofchk: boolean;
  /** IPv6 duplicate address detection on the container's addresses (off by default, as the reference) */
  enableDad: boolean;
  /** runtimeConfig.mac: the container interface's MAC */
  mac?: string;
  ipamType: string;
}

/** The reference bridge plugin's NetConf keys that berth-bridge reads. */
export const BRIDGE_SHAPE: GoShape = {
  bridge: true, isGateway: true, isDefaultGateway: true, forceAddress: true, ipMasq: true, mtu: true, hairpinMode: true,
  promiscMode: true, vlan: true, macspoofchk: true, enabledad: true, runtimeConfig: { mac: true },
};

export function parseBridgeConfig(conf: NetConf): BridgeConfig {
  const c = conf as Record<string, unknown>;
  const isDefaultGateway = optBool(c, 'isDefaultGateway') ?? false;
  const ipam = conf.ipam;
  if (!ipam || typeof ipam !== 'object') invalid('ipam', 'missing IPAM configuration (berth-bridge needs addresses)');
  if (typeof ipam.type !== 'string' || ipam.type === '') invalid('ipam.type', 'missing IPAM plugin type');
  const vlan = optInt(c, 'vlan', 0, 4094);
  return {
    bridge: optIfname(c, 'bridge') ?? 'cni0',
    // a default gateway must be a gateway: the reference turns isGateway on for it
    isGateway: (optBool(c, 'isGateway') ?? false) || isDefaultGateway,
    isDefaultGateway,
    forceAddress: optBool(c, 'forceAddress') ?? false,
    ipMasq: optBool(c, 'ipMasq') ?? false,
    mtu: optInt(c, 'mtu', 68, 65535),
    hairpinMode: optBool(c, 'hairpinMode') ?? false,
    promiscMode: optBool(c, 'promiscMode') ?? false,
    vlan: vlan === 0 ? undefined : vlan,
    macspoofchk: optBool(c, 'macspoofchk') ?? false,
    enableDad: optBool(c, 'enabledad') ?? false,
    mac: optMac(record(conf.runtimeConfig), 'mac', 'runtimeConfig.mac'),
    ipamType: ipam.type,
  };
}
