// What the CNI benchmarks share (cni-bridge.ts, cold-start.ts): a timed plugin call in the environment a
// CNI runtime gives a plugin, and the bridge networks they compare: berth-bridge + berth-ipam against the
// reference bridge + host-local (Debian's containernetworking-plugins in /usr/lib/cni).
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

export const BIN = path.resolve(__dirname, '..', '..', 'bin');
export const REF = '/usr/lib/cni';
export const CNI_PATH = `${BIN}:${REF}`;

/**
 * One plugin call, timed; throws with the plugin's output if it fails. The environment is a runtime's: PATH,
 * CNI_PATH and the CNI_* variables, no NODE_EXTRA_CA_CERTS; berth's cold path (no server, none started).
 */
export function callPlugin(file: string, env: Record<string, string>, conf?: object, args: string[] = []): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, args, {
    input: conf ? JSON.stringify(conf) : '', encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', CNI_PATH, BERTH_NO_SERVER: '1', BERTH_NO_AUTOSTART: '1', ...env },
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${path.basename(file)} ${env.CNI_COMMAND}: exit ${r.status}: ${r.stdout}${r.stderr}`);
  return ms;
}

/** berth-bridge with berth-ipam: network `name` on bridge br-<name>. */
export function berthBridgeConf(name: string, subnet: string, dataDir: string, ipam = 'berth-ipam'): object {
  const ranges = ipam === 'berth-ipam' ? { ranges: [[{ subnet }]] } : { subnet };
  return { cniVersion: ipam === 'berth-ipam' ? '1.1.0' : '1.0.0', name, type: 'berth-bridge', bridge: `br-${name}`, isGateway: true, ipam: { type: ipam, ...ranges, dataDir } };
}

/** The reference bridge with host-local: network `name` on bridge br-<name>. */
export function referenceBridgeConf(name: string, subnet: string, dataDir: string): object {
  return { cniVersion: '1.0.0', name, type: 'bridge', bridge: `br-${name}`, isGateway: true, ipam: { type: 'host-local', subnet, dataDir } };
}
