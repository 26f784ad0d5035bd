// Communities through the agent's config, against GoBGP as an eBGP top-of-rack router of a 1-node lab:
// the node's block reaches GoBGP with the --bgp-export-community values; of GoBGP's routes, the one with
// an accepted community is installed though no --bgp-import lists it, the one with a rejected community
// is not though --bgp-import lists it, and a plain listed one is.
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import type { Lab } from '../../lib/lab/lab';
import { addRouterNs, startRouterDaemon } from '../../lib/lab/router';
import { runIn } from '../../lib/lab/sh';
import { gobgpdToml } from '../../lib/lab/gobgp';
import { testLab, within } from '../helpers/lab';

const TOR_IP = '10.250.0.248';

let lab: Lab;
let gobgp: (...args: string[]) => string;

t.before(async () => {
  lab = await testLab(t, { nodes: 1, network: 'bgp', ttlS: 6, intervalS: 0.5, agents: false, tag: 'comm' });
  const { ns, dir } = addRouterNs(lab.state, 'tor', TOR_IP);
  const conf = path.join(dir, 'gobgpd.toml');
  fs.writeFileSync(conf, gobgpdToml({ asn: 65000, routerId: TOR_IP, localAddress: TOR_IP, neighbors: [{ address: lab.node('n1').ip, asn: 64512 }] }));
  const api = ['-u', '127.0.0.1', '-p', '50061'];
  gobgp = (...args: string[]): string => { const r = runIn(ns, 'gobgp', [...api, ...args]); if (r.status !== 0) throw new Error(r.stderr); return r.stdout; };
  const pid = await startRouterDaemon({ label: 'gobgpd of tor', ns, bin: 'gobgpd', log: path.join(dir, 'gobgpd.log'), pollMs: 100, ready: () => { gobgp('global'); },
    args: ['-f', conf, '--api-hosts', '127.0.0.1:50061', '--pprof-disable', '-l', 'warn'] });
  t.teardown(() => { try { process.kill(pid); } catch { /* gone with the lab */ } });
  gobgp('global', 'rib', 'add', '10.99.1.0/24', '-a', 'ipv4');
  gobgp('global', 'rib', 'add', '10.99.2.0/24', 'community', '65000:666', '-a', 'ipv4');
  gobgp('global', 'rib', 'add', '10.50.0.0/24', 'community', '65000:1', '-a', 'ipv4');
  await lab.startAgents(['n1'], ['--bgp-peer', `${TOR_IP}@65000`, '--bgp-import', '10.99.0.0/16', '--bgp-hold-time', '9',
    '--bgp-export-community', '64512:100,64512:200', '--bgp-import-accept-community', '65000:1', '--bgp-import-reject-community', '65000:666']);
});

t.test('GoBGP receives the node\'s block with the configured communities', async (t) => {
  const block = lab.settings('n1').subnet;
  let rib = '';
  t.ok(await within(20_000, () => { rib = gobgp('global', 'rib', '-a', 'ipv4'); return rib.includes(block); }) >= 0, rib);
  const line = rib.split('\n').find((l) => l.includes(block)) ?? '';
  t.match(line, /Communities: 64512:100, 64512:200/, `communities on ${block}: ${line}`);
});

t.test('import: accepted community in, rejected community out, listed prefix in', async (t) => {
  let r = '';
  t.ok(await within(20_000, () => { r = lab.exec('n1', 'ip', ['-4', 'route', 'show', 'proto', '186']).stdout; return r.includes('10.99.1.0/24') && r.includes('10.50.0.0/24'); }) >= 0, r);
  t.match(r, /^10\.50\.0\.0\/24 via 10\.250\.0\.248 /m, 'community 65000:1 accepted without --bgp-import');
  t.match(r, /^10\.99\.1\.0\/24 via 10\.250\.0\.248 /m, 'listed prefix accepted');
  t.notMatch(r, /10\.99\.2\.0/, 'community 65000:666 rejected though --bgp-import lists it');
});
