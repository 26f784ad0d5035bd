// The netlink/netns layer against the real kernel, inside namespaces the test creates.
import t, { Test } from 'tap';
import * as fs from 'node:fs';
import { createNetns, TestNetns } from '../helpers/netns';
import {
  openRtnl, withNetns, openNetns, getLink, createBridge, createVeth, createVxlan, setLink, deleteLinkByName, setBridgePort,
  getBridgePort, addAddr, delAddr, listAddrs, addRoute, replaceRoute, delRoute, listRoutes, setNeigh, listNeigh, delNeigh,
  setFdb, delFdb, writeSysctl, readSysctl, NetlinkError, RT_SCOPE, RT_TABLE, netnsId, eachRoute,
} from '../../lib/cni/net';
import { openStrictRtnl } from '../../lib/cni/net/nl/socket';
import { NLM_F, RTM } from '../../lib/cni/net/nl/constants';

function ns(t: Test, purpose: string): TestNetns {
  const n = createNetns(purpose);
  t.teardown(() => n.remove());
  return n;
}

t.test('withNetns moves the thread in and always back, even when fn throws', async (t) => {
  const a = ns(t, 'nl');
  const home = fs.readlinkSync('/proc/thread-self/ns/net');
  const inside = withNetns(a.path, () => fs.readlinkSync('/proc/thread-self/ns/net'));
  t.not(inside, home);
  t.equal(fs.statSync(a.path).ino, Number(/\[(\d+)\]/.exec(inside)![1]));
  t.throws(() => withNetns(a.path, () => { throw new Error('boom'); }), /boom/);
  t.equal(fs.readlinkSync('/proc/thread-self/ns/net'), home);
  await withNetns(a.path, async () => { await new Promise((r) => setTimeout(r, 5)); });
  t.equal(fs.readlinkSync('/proc/thread-self/ns/net'), home);
  t.throws(() => withNetns('/tmp', () => 1), { name: 'NetnsError' });
  t.throws(() => withNetns('/run/netns/berth-none-such', () => 1), { code: 'ENOENT' });
  t.equal(fs.readlinkSync('/proc/thread-self/ns/net'), home);
  t.equal(netnsId(a.path), netnsId(a.path));
});

t.test('a socket opened inside a netns keeps working there; bridge, veth across namespaces, port flags', async (t) => {
  const node = ns(t, 'nl');
  const ctr = ns(t, 'nl');
  const nl = openRtnl(node.path);
  t.teardown(() => nl.close());
  const br = await createBridge(nl, 'br-test', { mtu: 1400 });
  t.equal(br.kind, 'bridge');
  t.equal(br.mtu, 1400);
  // the root namespace never sees it
  t.equal(fs.existsSync('/sys/class/net/br-test'), false);
  t.match(node.exec('ip', ['-d', 'link', 'show', 'br-test']), /bridge/);

  const fd = openNetns(ctr.path);
  const host = await createVeth(nl, 'vethtest0', { peerName: 'eth0', mtu: 1400, peerNetnsFd: fd, peerMac: '02:00:00:00:00:01' });
  fs.closeSync(fd);
  t.equal(host.kind, 'veth');
  await setLink(nl, host.index, { master: br.index, up: true, promisc: true });
  await setBridgePort(nl, host.index, { hairpin: true });
  t.same((await getBridgePort(nl, host.index)).hairpin, true);
  t.match(node.exec('bridge', ['-d', 'link', 'show', 'dev', 'vethtest0']), /hairpin on/, 'kernel agrees');
  const h2 = await getLink(nl, 'vethtest0');
  t.equal(h2?.master, br.index);
  t.equal(h2?.promisc, true);
  t.equal(h2?.up, true);
  t.equal(await getLink(nl, 'eth0'), undefined, 'the peer is not in the node netns');

  const cnl = openRtnl(ctr.path);
  t.teardown(() => cnl.close());
  const eth0 = await getLink(cnl, 'eth0');
  t.equal(eth0?.mac, '02:00:00:00:00:01');
  t.equal(eth0?.mtu, 1400);
  await t.rejects(createBridge(nl, 'br-test'), { code: 'EEXIST' });
  t.equal(await deleteLinkByName(nl, 'vethtest0'), true);
  t.equal(await getLink(cnl, 'eth0'), undefined, 'deleting one end removes the pair');
  t.equal(await deleteLinkByName(nl, 'vethtest0'), false);
});

t.test('a created link comes back with the ACK (NLM_F_ECHO, Linux 6.1+): one request, the same Link a GET gives', async (t) => {
  const node = ns(t, 'nl');
  const ctr = ns(t, 'nl');
  const nl = openRtnl(node.path);
  t.teardown(() => nl.close());
  const requests: string[] = [];
  const request = nl.request.bind(nl);
  nl.request = (op, ...rest) => { requests.push(op); return request(op, ...rest); };
  const fd = openNetns(ctr.path);
  const host = await createVeth(nl, 'vethecho0', { peerName: 'eth0', peerNetnsFd: fd, up: true });
  fs.closeSync(fd);
  const [major, minor] = fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').split('.').map(Number);
  if (major > 6 || (major === 6 && minor >= 1)) t.same(requests, ['create link vethecho0'], 'no GET after the create');
  t.same(host, await getLink(nl, 'vethecho0'), 'what the echo said is what the kernel has');
  t.equal(host.up, true);
  const br = await createBridge(nl, 'br-echo');
  t.same(br, await getLink(nl, 'br-echo'));
});

t.test('the kernel answers inside sendmsg: a GET and a small dump settle before the event loop turns', async (t) => {
  const a = ns(t, 'nl');
  const nl = openRtnl(a.path);
  t.teardown(() => nl.close());
  for (const [what, flags] of [['GET of lo', 0], ['dump of the links', NLM_F.DUMP]] as const) {
    const ifinfo = Buffer.alloc(16);
    if (!flags) ifinfo.writeInt32LE(1, 4); // ifi_index 1: lo
    let turned = false;
    setImmediate(() => { turned = true; });
    const answer = await nl.request(what, RTM.GETLINK, flags, ifinfo);
    t.notOk(turned, `${what}: answered with no turn of the loop`);
    t.equal(answer.length, 1, `${what}: lo, the netns's only link`);
  }
});

t.test('addresses and routes: add, list, replace, onlink, blackhole, delete', async (t) => {
  const a = ns(t, 'nl');
  const nl = openRtnl(a.path);
  t.teardown(() => nl.close());
  const d = await createBridge(nl, 'br0', { up: true });
  await addAddr(nl, d.index, '10.9.0.1/24');
  await addAddr(nl, d.index, 'fd00:9::1/64', { nodad: true });
  await t.rejects(addAddr(nl, d.index, '10.9.0.1/24'), NetlinkError);
  const addrs = await listAddrs(nl, { index: d.index });
  t.ok(addrs.some((x) => x.cidr === '10.9.0.1/24' && x.family === 4));
  t.ok(addrs.some((x) => x.cidr === 'fd00:9::1/64' && x.family === 6));
  t.match(a.exec('ip', ['-4', 'addr', 'show', 'br0']), /brd 10\.9\.0\.255/);

  await addRoute(nl, { dst: '10.20.0.0/16', gw: '10.9.0.7', dev: d.index });
  await addRoute(nl, { dst: '10.30.0.0/16', gw: '192.168.77.1', dev: d.index, onlink: true, mtu: 1300 });
  await addRoute(nl, { dst: '10.40.0.0/16', type: 'blackhole' });
  await addRoute(nl, { dst: '10.50.0.0/16', dev: d.index, scope: RT_SCOPE.LINK, table: 100 });
  await t.rejects(addRoute(nl, { dst: '10.20.0.0/16', gw: '10.9.0.7', dev: d.index }), { code: 'EEXIST' });
  await replaceRoute(nl, { dst: '10.20.0.0/16', gw: '10.9.0.8', dev: d.index });
  const routes = await listRoutes(nl, 4);
  t.equal(routes.find((r) => r.dst === '10.20.0.0/16')?.gw, '10.9.0.8');
  const onlink = routes.find((r) => r.dst === '10.30.0.0/16');
  t.equal(onlink?.onlink, true);
  t.equal(onlink?.mtu, 1300);
  t.equal(routes.find((r) => r.dst === '10.40.0.0/16')?.type, 'blackhole');
  t.equal(routes.find((r) => r.dst === '10.50.0.0/16'), undefined, 'table 100 not listed in main');
  t.equal((await listRoutes(nl, 4, 100)).find((r) => r.dst === '10.50.0.0/16')?.scope, RT_SCOPE.LINK);
  t.match(a.exec('ip', ['route', 'show', '10.30.0.0/16']), /via 192\.168\.77\.1 dev br0 .*onlink/);
  await addRoute(nl, { dst: '::/0', gw: 'fd00:9::fe', dev: d.index });
  t.ok((await listRoutes(nl, 6)).some((r) => r.dst === '::/0' && r.gw === 'fd00:9::fe'));

  t.equal(await delRoute(nl, { dst: '10.20.0.0/16' }), true);
  t.equal(await delRoute(nl, { dst: '10.20.0.0/16' }), false);
  t.equal(await delRoute(nl, { dst: '10.40.0.0/16', type: 'blackhole' }), true);
  t.equal(await delAddr(nl, d.index, '10.9.0.1/24'), true);
  t.equal(await delAddr(nl, d.index, '10.9.0.1/24'), false);
  t.notOk((await listAddrs(nl, { family: 4 })).some((x) => x.ip === '10.9.0.1'));
});

t.test('vxlan device, permanent neighbours and FDB entries', async (t) => {
  const a = ns(t, 'nl');
  const nl = openRtnl(a.path);
  t.teardown(() => nl.close());
  const under = await createBridge(nl, 'under0', { up: true });
  await addAddr(nl, under.index, '192.168.50.1/24');
  const vx = await createVxlan(nl, 'vxlan.test', { vni: 42, local: '192.168.50.1', dev: under.index, port: 4789, mtu: 1450 });
  t.equal(vx.kind, 'vxlan');
  t.match(a.exec('ip', ['-d', 'link', 'show', 'vxlan.test']), /vxlan id 42 .*local 192\.168\.50\.1 .*dstport 4789/s);
  await setLink(nl, vx.index, { up: true });
  await setNeigh(nl, { index: vx.index, ip: '10.244.1.0', mac: '02:aa:bb:cc:dd:01' });
  await setNeigh(nl, { index: vx.index, ip: '10.244.1.0', mac: '02:aa:bb:cc:dd:02' }); // replace is idempotent
  const n = (await listNeigh(nl, 4, vx.index)).find((x) => x.ip === '10.244.1.0');
  t.equal(n?.mac, '02:aa:bb:cc:dd:02');
  await setFdb(nl, { index: vx.index, mac: '02:aa:bb:cc:dd:02', dst: '192.168.50.2' });
  const f = (await listNeigh(nl, 'bridge', vx.index)).find((x) => x.mac === '02:aa:bb:cc:dd:02');
  t.equal(f?.dst, '192.168.50.2');
  t.match(a.exec('bridge', ['fdb', 'show', 'dev', 'vxlan.test']), /02:aa:bb:cc:dd:02 dst 192\.168\.50\.2 self permanent/);
  t.equal(await delFdb(nl, { index: vx.index, mac: '02:aa:bb:cc:dd:02', dst: '192.168.50.2' }), true);
  t.equal(await delNeigh(nl, { index: vx.index, ip: '10.244.1.0' }), true);
  t.equal(await delNeigh(nl, { index: vx.index, ip: '10.244.1.0' }), false);
});

t.test('sysctls are per netns: writing inside one does not touch another or the root', async (t) => {
  const a = ns(t, 'nl');
  const b = ns(t, 'nl');
  const rootBefore = fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  writeSysctl('net.ipv4.ip_forward', '1', a.path);
  t.equal(readSysctl('net.ipv4.ip_forward', a.path), '1');
  t.equal(readSysctl('net.ipv4.ip_forward', b.path), '0');
  t.equal(a.exec('cat', ['/proc/sys/net/ipv4/ip_forward']).trim(), '1', 'seen by a process inside');
  t.equal(fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(), rootBefore);
  t.throws(() => writeSysctl('kernel.hostname', 'x', a.path), /only net/);
});

t.test('a strict-check dump: the kernel itself picks routes by table, type and protocol; a plain socket gets the same from our filter', async (t) => {
  const a = ns(t, 'nl');
  const nl = openRtnl(a.path);
  t.teardown(() => nl.close());
  const strict = withNetns(a.path, () => openStrictRtnl());
  t.teardown(() => strict.close());
  const d = await createBridge(nl, 'br0', { up: true });
  await addAddr(nl, d.index, '10.9.0.1/24');
  await addRoute(nl, { dst: '10.40.0.0/24', type: 'blackhole', protocol: 186 });
  await addRoute(nl, { dst: '10.41.0.0/24', type: 'blackhole', protocol: 186 });
  await addRoute(nl, { dst: '10.42.0.0/24', type: 'blackhole' }); // another protocol's blackhole
  await addRoute(nl, { dst: '10.43.0.0/24', gw: '10.9.0.7', protocol: 186 }); // ours, not a blackhole
  await addRoute(nl, { dst: '10.44.0.0/24', type: 'blackhole', protocol: 186, table: 100 }); // another table
  for (let i = 0; i < 2000; i++) await addRoute(nl, { dst: `20.${i >> 8}.${i & 255}.0/24`, gw: '10.9.0.7' }); // many datagrams' worth
  await addRoute(nl, { dst: 'fd00:40::/64', type: 'blackhole', protocol: 186 });
  const filter = { table: RT_TABLE.MAIN, type: 'blackhole', protocol: 186 } as const;
  const picked = async (sock: typeof nl, family: 4 | 6): Promise<{ dsts: string[]; kernelFiltered: boolean }> => {
    const dsts: string[] = [];
    const { kernelFiltered } = await eachRoute(sock, family, filter, (r) => { dsts.push(r.dst); });
    return { dsts: dsts.sort(), kernelFiltered };
  };
  const s4 = await picked(strict, 4);
  t.same(s4.dsts, ['10.40.0.0/24', '10.41.0.0/24'], 'our blackholes of the main table, nothing else');
  t.equal(s4.kernelFiltered, true, 'the kernel marked the dump NLM_F_DUMP_FILTERED: it did the filtering');
  t.same((await picked(strict, 6)).dsts, ['fd00:40::/64'], 'IPv6 the same');
  const p4 = await picked(nl, 4);
  t.same(p4.dsts, s4.dsts, 'the plain socket (no strict check) ends with the same routes');
  t.equal(p4.kernelFiltered, false, 'there the kernel sent everything and our parser filtered');
  t.same((await listRoutes(strict, 4, { table: 100 })).map((r) => r.dst), ['10.44.0.0/24'], 'another table by its number');
  t.equal((await listRoutes(strict, 4)).length, (await listRoutes(nl, 4)).length, 'an unfiltered dump over the strict socket lists the whole main table');
});
