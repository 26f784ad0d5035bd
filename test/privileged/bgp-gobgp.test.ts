// berth's BGP speaker against GoBGP (gobgpd + the gobgp CLI), IPv4 and IPv6 unicast over one IPv4
// session, on a veth between two namespaces this test creates. The test thread sits in berth's namespace.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connect, createNetns, killChild, type TestNetns } from '../helpers/netns';
import { native, CLONE } from '../../lib/sys/native';
import { BgpSpeaker } from '../../lib/cni/bgp/speaker';
import type { Policy } from '../../lib/cni/bgp/policy';
import { gobgpdToml } from '../../lib/lab/gobgp';
import { until as waitUntil } from '../helpers/wait';

const ACCEPT: Policy = { rules: [], default: 'accept' };

const until = (what: string, cond: () => boolean, ms = 30_000): Promise<void> => waitUntil(what, cond, ms, 200);

function lab(t: Test): { gobgp: TestNetns; node: TestNetns; dir: string } {
  const gobgp = createNetns('bgp');
  const node = createNetns('bgp');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-gobgp-'));
  const home = fs.openSync('/proc/self/ns/net', 'r');
  t.teardown(() => {
    native().setns(home, CLONE.NEWNET);
    fs.closeSync(home);
    gobgp.remove();
    node.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  connect(gobgp, 'vg', node, 'vn');
  gobgp.exec('ip', ['addr', 'add', '10.202.0.1/24', 'dev', 'vg']);
  gobgp.exec('ip', ['addr', 'add', 'fd00:202::1/64', 'dev', 'vg', 'nodad']);
  node.exec('ip', ['addr', 'add', '10.202.0.2/24', 'dev', 'vn']);
  node.exec('ip', ['addr', 'add', 'fd00:202::2/64', 'dev', 'vn', 'nodad']);
  const fd = fs.openSync(node.path, 'r');
  native().setns(fd, CLONE.NEWNET);
  fs.closeSync(fd);
  return { gobgp, node, dir };
}

const CONF = gobgpdToml({ asn: 65001, routerId: '10.202.0.1', localAddress: '10.202.0.1', neighbors: [{ address: '10.202.0.2', asn: 65002, families: ['ipv4-unicast', 'ipv6-unicast'] }] });

/** the lab with gobgpd running in its namespace; returns the gobgp CLI bound to that daemon */
async function startGobgp(t: Test): Promise<(...args: string[]) => string> {
  const l = lab(t);
  const conf = path.join(l.dir, 'gobgpd.toml');
  fs.writeFileSync(conf, CONF);
  const api = ['-u', '127.0.0.1', '-p', '50051'];
  const gobgp = (...args: string[]): string => l.gobgp.exec('gobgp', [...api, ...args]);
  const daemon = l.gobgp.spawn('gobgpd', ['-f', conf, '--api-hosts', '127.0.0.1:50051', '--pprof-disable', '-l', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  t.teardown(() => killChild(daemon));
  await until('gobgp API', () => l.gobgp.run('gobgp', [...api, 'global']).status === 0);
  return gobgp;
}

t.test('berth and GoBGP exchange IPv4 and IPv6 routes over one session', { timeout: 90_000 }, async (t) => {
  const gobgp = await startGobgp(t);
  gobgp('global', 'rib', 'add', '10.98.1.0/24', '-a', 'ipv4');
  gobgp('global', 'rib', 'add', 'fd00:98:1::/48', 'nexthop', 'fd00:202::1', '-a', 'ipv6');

  const speaker = new BgpSpeaker({
    asn: 65002, routerId: '10.202.0.2', listen: { address: '10.202.0.2', port: 179 }, originate: ['10.244.7.0/24', 'fd00:244:7::/48'],
    peers: [{ address: '10.202.0.1', asn: 65001, holdTime: 9, importPolicy: ACCEPT, exportPolicy: ACCEPT, nextHop6: 'fd00:202::2' }],
  });
  t.teardown(() => speaker.stop());
  await speaker.start();
  await until('Established', () => speaker.peers()[0].state === 'Established');
  await until('GoBGP sees Established', () => /Establ/.test(gobgp('neighbor')));
  t.match(gobgp('neighbor'), /10\.202\.0\.2\s+65002\s+\S+\s+Establ/, 'gobgp neighbor: Establ');

  await until('GoBGP routes at berth', () => speaker.routes().filter((r) => r.from === '10.202.0.1').length === 2);
  t.same(speaker.routes().filter((r) => r.from === '10.202.0.1').map((r) => [r.prefix, r.nextHop, r.asPath]),
    [['10.98.1.0/24', '10.202.0.1', '65001'], ['fd00:98:1::/48', 'fd00:202::1', '65001']]);

  await until('berth routes at GoBGP', () => /10\.244\.7\.0\/24/.test(gobgp('global', 'rib', '-a', 'ipv4')) && /fd00:244:7::\/48/.test(gobgp('global', 'rib', '-a', 'ipv6')));
  t.match(gobgp('global', 'rib', '-a', 'ipv4'), /10\.244\.7\.0\/24\s+10\.202\.0\.2\s+65002/, 'IPv4 block at GoBGP, next hop berth, path 65002');
  t.match(gobgp('global', 'rib', '-a', 'ipv6'), /fd00:244:7::\/48\s+fd00:202::2\s+65002/, 'IPv6 block with the IPv6 next hop');

  gobgp('global', 'rib', 'del', '10.98.1.0/24', '-a', 'ipv4');
  await until('withdraw from GoBGP', () => !speaker.routes().some((r) => r.prefix === '10.98.1.0/24'));
  speaker.withdraw('fd00:244:7::/48');
  await until('withdraw to GoBGP', () => !/fd00:244:7::\/48/.test(gobgp('global', 'rib', '-a', 'ipv6')));
  t.pass('withdrawals in both directions');
});

t.test('RFC 4486: GoBGP sends more than maxPrefixes: Cease 6/1, the session stays down for the restart time, then comes back', { timeout: 90_000 }, async (t) => {
  const gobgp = await startGobgp(t);
  for (const p of ['10.98.1.0/24', '10.98.2.0/24']) gobgp('global', 'rib', 'add', p, '-a', 'ipv4');
  const RESTART_S = 4;
  const speaker = new BgpSpeaker({
    asn: 65002, routerId: '10.202.0.2', listen: { address: '10.202.0.2', port: 179 }, originate: ['10.244.7.0/24'],
    peers: [{ address: '10.202.0.1', asn: 65001, holdTime: 9, importPolicy: ACCEPT, exportPolicy: ACCEPT, maxPrefixes: 2, maxPrefixRestartTime: RESTART_S }],
  });
  t.teardown(() => speaker.stop());
  await speaker.start();
  await until('two GoBGP routes at berth', () => speaker.routes().filter((r) => r.from === '10.202.0.1').length === 2);
  t.equal(speaker.peers()[0].state, 'Established', 'at the limit: still up');
  const notificationsAtGobgp = (): number => (JSON.parse(gobgp('neighbor', '10.202.0.2', '-j')) as { state: { messages: { received: { notification?: number } } } }).state.messages.received.notification ?? 0;
  gobgp('global', 'rib', 'add', '10.98.3.0/24', '-a', 'ipv4');
  await until('berth ends the session', () => speaker.peers()[0].state !== 'Established');
  const downAt = Date.now();
  t.match(speaker.peers()[0].lastError, /max-prefix: more than 2 IPv4 prefixes/);
  await until('GoBGP got the NOTIFICATION', () => notificationsAtGobgp() === 1);
  t.equal(speaker.routes().filter((r) => r.from === '10.202.0.1').length, 0, 'the peer\'s routes are gone');
  // GoBGP retries every 2 s (connect-retry): berth refuses until its restart time is over, then the
  // session comes back, GoBGP sends its 3 prefixes again and the next Cease follows
  await until('second Cease', () => notificationsAtGobgp() === 2, 30_000);
  const held = (Date.now() - downAt) / 1000;
  t.ok(held >= RESTART_S, `the second session came after ${held.toFixed(1)} s (restart time ${RESTART_S} s)`);
  gobgp('global', 'rib', 'del', '10.98.3.0/24', '-a', 'ipv4');
  await until('Established with the table back under the limit', () => speaker.peers()[0].state === 'Established' && speaker.routes().filter((r) => r.from === '10.202.0.1').length === 2, 30_000);
  t.pass('under the limit the session stays');
});
