// berth-portmap's config: runtimeConfig.portMappings (as the runtime passes them) and "snat".
import type { PortMapping, Protocol } from '../firewall/portmap';
import type { GoShape } from '../goconf';
import type { NetConf } from '../types';
import { invalid, optBool, record } from './common-config';
import { parseIP } from '../../util/ip-address';

export interface PortmapConfig { mappings: PortMapping[]; snat: boolean }

const PROTOCOLS: Protocol[] = ['tcp', 'udp', 'sctp'];

function port(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) invalid(field, `expected a port from 1 to 65535, got ${JSON.stringify(v)}`);
  return v;
}

/** The reference portmap's keys that berth-portmap reads (PortMapEntry: hostPort, containerPort, ...). */
export const PORTMAP_SHAPE: GoShape = {
  snat: true, runtimeConfig: { portMappings: [{ hostPort: true, containerPort: true, protocol: true, hostIP: true }] },
};

export function parsePortmapConfig(conf: NetConf): PortmapConfig {
  const rc = record(conf.runtimeConfig);
  const raw = rc.portMappings ?? [];
  if (!Array.isArray(raw)) invalid('runtimeConfig.portMappings', 'expected an array');
  const mappings = raw.map((m: unknown, i): PortMapping => {
    const f = `runtimeConfig.portMappings[${i}]`;
    const o = record(m);
    const protocol = (o.protocol ?? 'tcp') as Protocol;
    if (typeof protocol !== 'string' || !PROTOCOLS.includes(protocol.toLowerCase() as Protocol)) invalid(`${f}.protocol`, `expected one of ${PROTOCOLS.join(', ')}, got ${JSON.stringify(o.protocol)}`);
    const hostIP = o.hostIP;
    if (hostIP !== undefined && hostIP !== '' && (typeof hostIP !== 'string' || !parseIP(hostIP))) invalid(`${f}.hostIP`, `not an IP address: ${JSON.stringify(hostIP)}`);
    return {
      hostPort: port(o.hostPort, `${f}.hostPort`),
      containerPort: port(o.containerPort, `${f}.containerPort`),
      protocol: protocol.toLowerCase() as Protocol,
      hostIP: hostIP ? (hostIP as string) : undefined,
    };
  });
  return { mappings, snat: optBool(conf as Record<string, unknown>, 'snat') ?? true };
}
