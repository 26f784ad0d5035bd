import t from 'tap';
import { describeOp, KernelState, Peer, planVxlan } from '../../lib/cni/agent/backends/vxlan/plan';

const p2: Peer = { node: 'n2', subnet: '10.244.2.0/24', gw: '10.244.2.0', vtepMac: 'aa:aa:aa:aa:aa:02', publicIp: '10.250.0.2' };
const p3: Peer = { node: 'n3', subnet: '10.244.3.0/24', gw: '10.244.3.0', vtepMac: 'aa:aa:aa:aa:aa:03', publicIp: '10.250.0.3' };

function kernelFor(peers: Peer[]): KernelState {
  return {
    routes: peers.map((p) => ({ dst: p.subnet, gw: p.gw, onlink: true })),
    neighs: peers.map((p) => ({ ip: p.gw, mac: p.vtepMac })),
    fdbs: peers.map((p) => ({ mac: p.vtepMac, dst: p.publicIp })),
  };
}

t.test('an empty kernel gets one route, one neighbour and one FDB entry per peer', async (t) => {
  const ops = planVxlan([p2, p3], { routes: [], neighs: [], fdbs: [] });
  t.same(ops.map(describeOp).sort(), [
    'fdb aa:aa:aa:aa:aa:02 dst 10.250.0.2', 'fdb aa:aa:aa:aa:aa:03 dst 10.250.0.3',
    'neigh 10.244.2.0 lladdr aa:aa:aa:aa:aa:02', 'neigh 10.244.3.0 lladdr aa:aa:aa:aa:aa:03',
    'route 10.244.2.0/24 via 10.244.2.0 onlink', 'route 10.244.3.0/24 via 10.244.3.0 onlink',
  ]);
});

t.test('a kernel that is already right needs nothing (restart changes nothing)', async (t) => {
  t.same(planVxlan([p2, p3], kernelFor([p2, p3])), []);
  // MAC case differences are not differences
  t.same(planVxlan([{ ...p2, vtepMac: 'AA:AA:AA:AA:AA:02' }], kernelFor([p2])), []);
});

t.test('a departed node loses its route, neighbour and FDB entry', async (t) => {
  const ops = planVxlan([p2], kernelFor([p2, p3]));
  t.same(ops, [
    { kind: 'route-del', dst: p3.subnet, gw: p3.gw },
    { kind: 'neigh-del', ip: p3.gw },
    { kind: 'fdb-del', mac: p3.vtepMac, dst: p3.publicIp },
  ]);
});

t.test('a changed VTEP MAC replaces the neighbour and swaps the FDB entry, stale one removed first', async (t) => {
  const moved = { ...p2, vtepMac: 'bb:bb:bb:bb:bb:02' };
  const ops = planVxlan([moved], kernelFor([p2]));
  t.same(ops, [
    { kind: 'fdb-del', mac: p2.vtepMac, dst: p2.publicIp },
    { kind: 'neigh-set', ip: p2.gw, mac: moved.vtepMac },
    { kind: 'fdb-set', mac: moved.vtepMac, dst: p2.publicIp },
  ]);
});

t.test('a route with the wrong gateway or without onlink is replaced; a hand-deleted one comes back', async (t) => {
  const k = kernelFor([p2, p3]);
  k.routes[0] = { dst: p2.subnet, gw: '10.244.2.9', onlink: true };
  k.routes[1] = { dst: p3.subnet, gw: p3.gw, onlink: false };
  t.same(planVxlan([p2, p3], k), [
    { kind: 'route-set', dst: p2.subnet, gw: p2.gw },
    { kind: 'route-set', dst: p3.subnet, gw: p3.gw },
  ]);
  const k2 = kernelFor([p2, p3]);
  k2.routes.splice(0, 1);
  t.same(planVxlan([p2, p3], k2), [{ kind: 'route-set', dst: p2.subnet, gw: p2.gw }]);
});

t.test('a moved underlay address swaps only the FDB entry', async (t) => {
  const moved = { ...p3, publicIp: '10.250.0.33' };
  t.same(planVxlan([p2, moved], kernelFor([p2, p3])), [
    { kind: 'fdb-del', mac: p3.vtepMac, dst: '10.250.0.3' },
    { kind: 'fdb-set', mac: p3.vtepMac, dst: '10.250.0.33' },
  ]);
});
