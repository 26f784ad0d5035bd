// berth's BGP speaker against BIRD 2, over a veth between two namespaces this test creates.
// The test process moves its main thread into berth's namespace (setns), so the speaker's sockets and
// the rtnetlink socket of FIB sync live there; BIRD runs in the other namespace.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { connect, createNetns, killChild, type TestNetns } from '../helpers/netns';
import { native, CLONE } from '../../lib/sys/native';
import { BgpSpeaker } from '../../lib/cni/bgp/speaker';
import { FibSync, NetlinkFib } from '../../lib/cni/bgp/fib';
import type { Policy } from '../../lib/cni/bgp/policy';
import { until as waitUntil } from '../helpers/wait';

const ACCEPT: Policy = { rules: [], default: 'accept' };

const until = (what: string, cond: () => boolean, ms = 20_000): Promise<void> => waitUntil(what, cond, ms, 100);

interface Lab { bird: TestNetns; node: TestNetns; dir: string; birdc: (cmd: string) => string; startBird: (conf: string) => ChildProcess }

/** two namespaces joined by a veth, the test thread inside `node`; everything undone in teardown */
function lab(t: Test): Lab {
  const bird = createNetns('bgp');
  const node = createNetns('bgp');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bgp-'));
  const children: ChildProcess[] = [];
  const home = fs.openSync('/proc/self/ns/net', 'r');
  t.teardown(async () => {
    for (const c of children) await killChild(c);
    native().setns(home, CLONE.NEWNET);
    fs.closeSync(home);
    bird.remove();
    node.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  connect(bird, 'vb', node, 'vn');
  bird.exec('ip', ['addr', 'add', '10.201.0.1/24', 'dev', 'vb']);
  bird.exec('ip', ['addr', 'add', 'fd00:201::1/64', 'dev', 'vb', 'nodad']);
  node.exec('ip', ['addr', 'add', '10.201.0.2/24', 'dev', 'vn']);
  node.exec('ip', ['addr', 'add', 'fd00:201::2/64', 'dev', 'vn', 'nodad']);
  const fd = fs.openSync(node.path, 'r');
  native().setns(fd, CLONE.NEWNET);
  fs.closeSync(fd);
  const sock = path.join(dir, 'bird.ctl');
  return {
    bird, node, dir,
    birdc: (cmd) => execFileSync('birdc', ['-s', sock, ...cmd.split(' ')], { encoding: 'utf8' }),
    startBird(conf) {
      const file = path.join(dir, 'bird.conf');
      fs.writeFileSync(file, conf);
      const c = bird.spawn('bird', ['-f', '-c', file, '-s', sock, '-P', path.join(dir, 'bird.pid')], { stdio: ['ignore', 'inherit', 'inherit'] });
      children.push(c);
      return c;
    },
  };
}

const BIRD_CONF = `
router id 10.201.0.1;
log stderr { error, fatal };
protocol device {}
protocol static s4 { ipv4; route 10.99.1.0/24 blackhole; route 10.99.2.0/24 blackhole; }
protocol static s6 { ipv6; route fd00:99:1::/48 blackhole; }
protocol bgp berth {
  local 10.201.0.1 as 65001;
  neighbor 10.201.0.2 as 65002;
  hold time 9;
  connect retry time 2;
  graceful restart on;
  ipv4 { import all; export all; };
  ipv6 { import all; export all; next hop address fd00:201::1; };
}
`;

t.test('berth peers with BIRD: Established, routes both ways (IPv4 + IPv6), FIB sync with proto 186', async (t) => {
  const l = lab(t);
  // a route another protocol owns in berth's namespace: FIB sync must leave it alone
  l.node.exec('ip', ['route', 'add', '10.99.2.0/24', 'via', '10.201.0.1', 'proto', 'static']);
  l.startBird(BIRD_CONF);
  const fib = new FibSync(new NetlinkFib(), 20);
  const exportOwn: Policy = { rules: [{ match: { prefixes: [{ prefix: '10.244.0.0/16', le: 24 }, { prefix: 'fd00:244::/32', le: 48 }] }, action: 'accept' }], default: 'reject' };
  const speaker = new BgpSpeaker({
    asn: 65002, routerId: '10.201.0.2', listen: { address: '10.201.0.2', port: 179 }, originate: ['10.244.2.0/24', 'fd00:244:2::/48', '10.245.0.0/24'],
    peers: [{ address: '10.201.0.1', asn: 65001, holdTime: 9, importPolicy: ACCEPT, exportPolicy: exportOwn, nextHop6: 'fd00:201::2' }],
    onBestChange: (c) => fib.update(c),
  });
  t.teardown(async () => { await speaker.stop(); await fib.flush(); fib.close(); });
  await speaker.start();

  await until('Established at berth', () => speaker.peers()[0].state === 'Established');
  await until('Established at BIRD', () => /berth\s+BGP\s+---\s+up\s+\S+\s+Established/.test(l.birdc('show protocols berth')));
  t.match(l.birdc('show protocols berth'), /Established/, 'birdc show protocols: Established');

  await until('BIRD routes in Loc-RIB', () => speaker.routes().filter((r) => r.from === '10.201.0.1').length === 3);
  const r4 = speaker.routes().find((r) => r.prefix === '10.99.1.0/24');
  t.same([r4?.nextHop, r4?.asPath], ['10.201.0.1', '65001']);
  t.equal(speaker.routes().find((r) => r.prefix === 'fd00:99:1::/48')?.nextHop, 'fd00:201::1');

  await fib.flush();
  await until('kernel routes', () => /10\.99\.1\.0\/24 via 10\.201\.0\.1/.test(l.node.exec('ip', ['route', 'show', 'proto', '186'])));
  t.match(l.node.exec('ip', ['route', 'show', 'proto', '186']), /10\.99\.1\.0\/24 via 10\.201\.0\.1 dev vn/, 'IPv4 route in the kernel with proto 186');
  t.match(l.node.exec('ip', ['-6', 'route', 'show', 'proto', '186']), /fd00:99:1::\/48 via fd00:201::1 dev vn/, 'IPv6 route too');
  t.match(l.node.exec('ip', ['route', 'show', '10.99.2.0/24']), /proto static/, 'the static route is untouched');
  t.ok(fib.errors.some((e) => e.prefix === '10.99.2.0/24'), 'and FIB sync says why it left it');

  await until('berth routes at BIRD', () => /10\.244\.2\.0\/24/.test(l.birdc('show route protocol berth')));
  const shown = l.birdc('show route protocol berth');
  t.match(shown, /10\.244\.2\.0\/24\s+unicast \[berth/, 'birdc show route has berth\'s IPv4 block');
  t.match(shown, /fd00:244:2::\/48/, 'and its IPv6 block');
  t.notMatch(shown, /10\.245\.0\.0/, 'export policy kept 10.245.0.0/24 back');
  t.equal(speaker.peers()[0].advertised, 2, 'berth advertised exactly its two exported blocks');

  speaker.withdraw('10.244.2.0/24');
  await until('withdrawn at BIRD', () => !/10\.244\.2\.0\/24/.test(l.birdc('show route protocol berth')));
  t.pass('withdraw reached BIRD');

  // BIRD disables the protocol: Cease, so no graceful restart: routes leave Loc-RIB and the kernel
  l.birdc('disable berth');
  await until('routes gone from Loc-RIB', () => !speaker.routes().some((r) => r.from === '10.201.0.1'));
  await fib.flush();
  t.equal(l.node.exec('ip', ['route', 'show', 'proto', '186']).trim(), '', 'kernel routes removed');
  t.match(l.node.exec('ip', ['route', 'show', '10.99.2.0/24']), /proto static/, 'static route still there');
});

t.test('graceful restart with BIRD: a killed BIRD leaves its routes in place (stale) until it is back', { timeout: 90_000 }, async (t) => {
  const l = lab(t);
  let bird = l.startBird(BIRD_CONF);
  const fib = new FibSync(new NetlinkFib(), 20);
  const speaker = new BgpSpeaker({
    asn: 65002, routerId: '10.201.0.2', listen: { address: '10.201.0.2', port: 179 }, originate: [],
    peers: [{ address: '10.201.0.1', asn: 65001, holdTime: 9, importPolicy: ACCEPT, nextHop6: 'fd00:201::2' }],
    onBestChange: (c) => fib.update(c),
  });
  t.teardown(async () => { await speaker.stop(); await fib.flush(); fib.close(); });
  await speaker.start();
  await until('BIRD routes', () => speaker.routes().filter((r) => r.from === '10.201.0.1').length === 3);

  // no NOTIFICATION, as a crash: RFC 4724 says keep forwarding on the old routes
  await killChild(bird);
  await until('session down', () => speaker.peers()[0].state !== 'Established');
  t.ok(speaker.peers()[0].gracefulRestart, 'peer marked restarting');
  t.equal(speaker.routes().filter((r) => r.stale).length, 3, 'all three routes kept, stale');
  await fib.flush();
  t.match(l.node.exec('ip', ['route', 'show', 'proto', '186']), /10\.99\.2\.0\/24/, 'still forwarding in the kernel');

  // BIRD comes back without 10.99.2.0/24 (and, started normally, without preserved forwarding state,
  // so RFC 4724 §4.2 drops the stale routes at once): what it announces again replaces them
  bird = l.startBird(BIRD_CONF.replace(' route 10.99.2.0/24 blackhole;', ''));
  await until('restart finished', () => speaker.peers()[0].state === 'Established' && !speaker.peers()[0].gracefulRestart);
  await until('routes refreshed', () => speaker.routes().length === 2 && speaker.routes().every((r) => !r.stale));
  t.same(speaker.routes().map((r) => [r.prefix, r.stale]), [['10.99.1.0/24', false], ['fd00:99:1::/48', false]]);
  await fib.flush();
  const k = l.node.exec('ip', ['route', 'show', 'proto', '186']);
  t.notMatch(k, /10\.99\.2\.0/, 'kernel route of the vanished prefix removed');
  t.match(k, /10\.99\.1\.0\/24/, 'the refreshed one stays');
});
