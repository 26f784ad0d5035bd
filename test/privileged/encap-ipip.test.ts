// Calico's IPIP modes for the BGP backend in a lab of three nodes on two underlay subnets (n1, n2 on
// 10.250.0.0/24; n3 on 10.251.0.0/24 behind a router namespace). The routes are BGP's; the mode decides
// their shape: "cross-subnet" keeps n1 <-> n2 plain (via n2's underlay address on eth0) and sends n3's
// through berth.ipip (onlink via 10.251.0.3, the outer destination); "always" moves n2's onto the tunnel
// too. A restart with the same flags changes nothing; a node that leaves removes its device and every
// route through it.
// This machine's kernel has no ipip link kind (CONFIG_NET_IPIP): here the agent must refuse in one line
// naming --bgp-ipip and leave nothing behind. The matrix runs for real in the QEMU guest of test/vm/run.sh
// (Debian's kernel, ipip as a module), which CI runs after the host suites.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as zlib from 'node:zlib';
import t from 'tap';
import { runIn } from '../../lib/lab/sh';
import { within } from '../helpers/lab';
import { BgpEncapLab, ENCAP_NODES } from '../helpers/encap-lab';
import { linkPackets } from '../helpers/encap';

const NODES = ENCAP_NODES;
const DEV = 'berth.ipip';
let e: BgpEncapLab;

/** Does this kernel have IPIP tunnels: loaded, built in, or a module of this kernel's? */
function kernelHasIpip(): boolean {
  if (fs.existsSync('/sys/module/ipip')) return true;
  try {
    return /^CONFIG_NET_IPIP=[ym]$/m.test(zlib.gunzipSync(fs.readFileSync('/proc/config.gz')).toString());
  } catch {
    // no /proc/config.gz (Debian's kernel): the module lists say whether modprobe can load it
    const dir = `/lib/modules/${os.release()}`;
    const lists = ['modules.dep', 'modules.builtin'].map((f) => (fs.existsSync(`${dir}/${f}`) ? fs.readFileSync(`${dir}/${f}`, 'utf8') : '')).join('\n');
    return /(^|\/)ipip\.ko(\.[a-z]+)?(:|$)/m.test(lists);
  }
}

t.before(async () => {
  e = await BgpEncapLab.up(t, 'ei');
});

interface IpLink { ifindex: number; mtu: number; flags: string[]; linkinfo?: { info_kind?: string; info_data?: Record<string, unknown> }; link?: string }
const linkJson = (node: string, dev: string): IpLink => (JSON.parse(runIn(e.ns(node), 'ip', ['-d', '-j', 'link', 'show', 'dev', dev]).stdout) as IpLink[])[0];

if (!kernelHasIpip()) {
  t.test('IPIP: refused in one line on a kernel without ipip, nothing left behind', async (t) => {
    await t.rejects(e.lab.startAgents(['n1'], ['--bgp-ipip', 'cross-subnet']), { message: /agent of n1 exited: berth: --bgp-ipip: this kernel has no IPIP tunnels \(CONFIG_NET_IPIP\): use --bgp-vxlan instead$/ });
    t.notOk(e.hasLink('n1', DEV), 'no tunnel device left');
    t.notOk(fs.existsSync(`${e.lab.node('n1').runDir}/subnet.json`), 'no settings written: the node never joined');
    t.same(e.routes('n1'), [], 'no route');
    e.lab.node('n1').agentPid = undefined;
  });
} else {
  t.test('IPIP cross-subnet: plain routes on the same subnet, berth.ipip across the router', async (t) => {
    await e.start(['--bgp-ipip', 'cross-subnet']);
    t.ok(await e.routesBecome('n1', [`${e.block('n2')} via 10.250.0.2 dev eth0`, `${e.block('n3')} via 10.251.0.3 dev ${DEV} onlink`]), `n1: ${e.routes('n1').join(' | ')}`);
    // n3 is alone on its subnet: both others through the tunnel, each via its own underlay address
    t.ok(await e.routesBecome('n3', [`${e.block('n1')} via 10.250.0.1 dev ${DEV} onlink`, `${e.block('n2')} via 10.250.0.2 dev ${DEV} onlink`]), `n3: ${e.routes('n3').join(' | ')}`);

    // the device as the kernel has it: ipip, remote any, our underlay address as the outer source, on eth0
    const eth0 = linkJson('n1', 'eth0');
    const dev = linkJson('n1', DEV);
    t.equal(dev.linkinfo?.info_kind, 'ipip', 'kind ipip');
    t.match(dev.linkinfo?.info_data, { remote: 'any', local: '10.250.0.1', link: 'eth0' }, JSON.stringify(dev.linkinfo?.info_data));
    t.equal(dev.mtu, eth0.mtu - 20, 'the underlay MTU less the outer header');
    t.ok(dev.flags.includes('UP'), 'up');
    const addrs = runIn(e.ns('n1'), 'ip', ['-o', '-4', 'addr', 'show', 'dev', DEV]).stdout.trim().split('\n').map((l) => l.split(/\s+/)[3]);
    t.same(addrs, [`${e.block('n1').split('/')[0]}/32`], "the block's network address: the source of node-to-pod traffic");
    t.equal(e.lab.settings('n1').mtu, eth0.mtu - 20, 'containers get the IPIP MTU');

    for (const [x, y] of [['a', 'b'], ['b', 'a'], ['a', 'c'], ['c', 'a'], ['b', 'c'], ['c', 'b']]) t.ok(await within(5000, () => e.ping(x, y)) >= 0, `${x} -> ${y}`);
    const n1a = linkPackets(e.ns('n1'), DEV);
    t.ok(e.ping('a', 'b', 5));
    const n1b = linkPackets(e.ns('n1'), DEV);
    t.ok(n1b.tx - n1a.tx < 5, `a -> b not through ${DEV} (${n1b.tx - n1a.tx} packets)`);
    const n3b = linkPackets(e.ns('n3'), DEV);
    t.ok(e.ping('a', 'c', 5));
    t.ok(linkPackets(e.ns('n1'), DEV).tx - n1b.tx >= 5, `a -> c encapsulated on n1's ${DEV}`);
    t.ok(linkPackets(e.ns('n3'), DEV).rx - n3b.rx >= 5, `and decapsulated on n3's ${DEV}`);
  });

  t.test('a restart with the same flags changes nothing; "always" moves n2 onto the tunnel', async (t) => {
    // n1 has both shapes (plain to n2, tunnelled to n3): its agent restarts alone, as emulation is slow
    const snap = (): string => JSON.stringify([e.routes('n1'), runIn(e.ns('n1'), 'ip', ['-d', '-o', 'link', 'show', DEV]).stdout, runIn(e.ns('n1'), 'ip', ['-o', 'addr', 'show', 'dev', DEV]).stdout]);
    const before = snap();
    await e.lab.stopAgent('n1', 'SIGTERM');
    await e.lab.startAgents(['n1'], ['--bgp-ipip', 'cross-subnet']);
    await new Promise((r) => setTimeout(r, 3000)); // a few ticks, and the speaker's FIB reconcile
    t.equal(snap(), before, "n1's routes, device (index, attributes) and address as they were");

    const index = linkJson('n1', DEV).ifindex;
    await e.stop('SIGTERM');
    await e.lab.startAgents(NODES, ['--bgp-ipip', 'always']);
    t.ok(await e.routesBecome('n1', [`${e.block('n2')} via 10.250.0.2 dev ${DEV} onlink`, `${e.block('n3')} via 10.251.0.3 dev ${DEV} onlink`]), `n1: ${e.routes('n1').join(' | ')}`);
    t.ok(await e.routesBecome('n2', [`${e.block('n1')} via 10.250.0.1 dev ${DEV} onlink`, `${e.block('n3')} via 10.251.0.3 dev ${DEV} onlink`]), `n2: ${e.routes('n2').join(' | ')}`);
    t.equal(linkJson('n1', DEV).ifindex, index, 'the same device: only the routes changed');
    for (const [x, y] of [['a', 'b'], ['b', 'a'], ['a', 'c']]) t.ok(await within(5000, () => e.ping(x, y)) >= 0, `${x} -> ${y}`);
    const n1a = linkPackets(e.ns('n1'), DEV);
    const n2a = linkPackets(e.ns('n2'), DEV);
    t.ok(e.ping('a', 'b', 5));
    t.ok(linkPackets(e.ns('n1'), DEV).tx - n1a.tx >= 5, `a -> b encapsulated on n1's ${DEV}`);
    t.ok(linkPackets(e.ns('n2'), DEV).rx - n2a.rx >= 5, `and decapsulated on n2's ${DEV}`);
  });

  t.test('nodes that leave (SIGINT) remove berth.ipip and every route through it', async (t) => {
    await e.stop('SIGINT');
    for (const n of NODES) {
      t.notOk(e.hasLink(n, DEV), `${n}: ${DEV} removed`);
      const left = runIn(e.ns(n), 'ip', ['route', 'show', 'table', 'all']).stdout.split('\n').filter((l) => l.includes(DEV));
      t.same(left, [], `${n}: no route through ${DEV}`);
    }
  });
}
