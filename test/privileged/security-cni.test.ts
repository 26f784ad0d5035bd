// CNI attacks by whoever picks container ids or CNI_NETNS, and bad IPAM input, performed against
// berth-bridge + berth-ipam, with the reference bridge + host-local on the same input as the control:
// - two container ids whose host veth names collide (32-bit FNV-1a): the second ADD must not take the
//   first container's link, and a DEL of an id never added must not remove a neighbour's;
// - host veth names squatted by links that are not ours: a clean error, none of them touched; a host veth
//   of the attachment's own (left by a failed ADD) is replaced;
// - CNI_NETNS naming a FIFO, a regular file or a directory: an error within a bounded time, not a hang;
// - an IPAM gateway (or range bound) outside its subnet: refused at ADD naming the field, nothing allocated.
import t, { Test } from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { attachmentMark, hostVethNames } from '../../lib/cni/net/attach';
import { CNI_PATH, cni, createNetns, killChild, peerServer, tcpAsk, TestNetns } from '../helpers/netns';

/** FNV-1a 32 as the attacker computes it, independently of the plugin's code. */
function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h >>> 0;
}

/** Two ids "adv-col-N" whose first host veth name in `network` is the same (a birthday search, ~80k hashes). */
function collidingIds(network: string, ifname = 'eth0'): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const id = `adv-col-${i}`;
    const h = fnv1a32(`${network}\0${id}\0${ifname}`);
    const other = seen.get(h);
    if (other) return [other, id];
    seen.set(h, id);
  }
}

interface Node { node: TestNetns; dataDir: string; ctr(): TestNetns; bridge(type: string): Record<string, unknown> }

/** A node netns holding the bridge, container netns made on demand, a private IPAM dir; all removed at the end. */
function lab(t: Test, network: string, subnet: string): Node {
  const node = createNetns('seccni-node');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-seccni-'));
  const ctrs: TestNetns[] = [];
  t.teardown(() => { for (const c of ctrs) c.remove(); node.remove(); fs.rmSync(dataDir, { recursive: true, force: true }); });
  return {
    node,
    dataDir,
    ctr() { const c = createNetns('seccni-ctr'); ctrs.push(c); return c; },
    bridge: (type) => ({
      cniVersion: '1.0.0', name: network, type: type === 'reference' ? 'bridge' : 'berth-bridge', bridge: 'br-sec', isGateway: true,
      ipam: { type: type === 'reference' ? 'host-local' : 'berth-ipam', subnet, dataDir },
    }),
  };
}

const addrOf = (r: { json?: Record<string, unknown> }): string => String((r.json as { ips?: { address: string }[] })?.ips?.[0]?.address ?? '').split('/')[0];
const linkOf = (ns: TestNetns, name: string): string => ns.run('ip', ['-o', 'link', 'show', name]).stdout.replace(/^\d+: /, '').split(' ')[0];
/** The addresses a network's IPAM dir holds (host-local and berth-ipam: one file per address). */
const allocations = (dataDir: string, network: string): string[] =>
  fs.existsSync(path.join(dataDir, network)) ? fs.readdirSync(path.join(dataDir, network)).filter((f) => net.isIP(f) !== 0) : [];

for (const type of ['reference', 'berth']) {
  t.test(`${type}: colliding ids; the second ADD leaves the first container's eth0 and traffic alone`, async (t) => {
    const network = `seccol${type[0]}`;
    const [idA, idB] = collidingIds(network);
    const l = lab(t, network, '10.89.0.0/24');
    const a = l.ctr();
    const b = l.ctr();
    const conf = l.bridge(type);
    const addA = cni(l.node, String(conf.type), { command: 'ADD', containerId: idA, netns: a.path }, conf);
    t.equal(addA.status, 0, addA.stdout);
    const ethA = a.exec('ip', ['-o', 'link', 'show', 'eth0']);
    const server = await peerServer(a, 80, 'A');
    t.teardown(() => killChild(server));

    const addB = cni(l.node, String(conf.type), { command: 'ADD', containerId: idB, netns: b.path }, conf);
    t.equal(addB.status, 0, `the second container gets its own link: ${addB.stdout}`);
    t.equal(a.exec('ip', ['-o', 'link', 'show', 'eth0']), ethA, 'A\'s eth0 is the same link as before');
    t.equal(tcpAsk(b, addrOf(addA), 80), `${addrOf(addB)} A`, 'B reaches A across the bridge');
    t.equal(tcpAsk(l.node, addrOf(addA), 80), `10.89.0.1 A`, 'the node reaches A');
    if (type === 'berth') {
      const [first, second] = hostVethNames({ network, containerId: idA, ifname: 'eth0' });
      t.equal(hostVethNames({ network, containerId: idB, ifname: 'eth0' })[0], first, `${idA} and ${idB} hash to one name (${first})`);
      t.equal(linkOf(l.node, first).split('@')[0], first, 'A holds the name');
      t.equal(linkOf(l.node, second).split('@')[0], second, 'B took the next name of its own');
    }

    t.equal(cni(l.node, String(conf.type), { command: 'DEL', containerId: idB, netns: b.path }, conf).status, 0);
    t.equal(a.exec('ip', ['-o', 'link', 'show', 'eth0']), ethA, 'DEL of B leaves A\'s eth0');
    t.equal(tcpAsk(l.node, addrOf(addA), 80), `10.89.0.1 A`, 'and A\'s traffic');
    t.equal(cni(l.node, String(conf.type), { command: 'DEL', containerId: idA, netns: a.path }, conf).status, 0);
    t.same(l.node.exec('ip', ['-br', 'link']).split('\n').filter((x) => x.startsWith('veth')), [], 'both host ends are gone');
  });

  t.test(`${type}: DEL of an id never added touches no neighbour`, async (t) => {
    const network = `secdel${type[0]}`;
    const [idA, idB] = collidingIds(network);
    const l = lab(t, network, '10.88.0.0/24');
    const a = l.ctr();
    const stranger = l.ctr();
    const conf = l.bridge(type);
    const addA = cni(l.node, String(conf.type), { command: 'ADD', containerId: idA, netns: a.path }, conf);
    t.equal(addA.status, 0, addA.stdout);
    const ethA = a.exec('ip', ['-o', 'link', 'show', 'eth0']);
    const hostLinks = l.node.exec('ip', ['-br', 'link']);
    const allocated = allocations(l.dataDir, network).sort();
    for (const netns of [stranger.path, '']) {
      const del = cni(l.node, String(conf.type), { command: 'DEL', containerId: idB, netns }, conf);
      t.equal(del.status, 0, `DEL of unknown ${idB} (netns "${netns}") succeeds: ${del.stdout}`);
    }
    t.equal(a.exec('ip', ['-o', 'link', 'show', 'eth0']), ethA, 'A\'s eth0 is intact');
    t.equal(l.node.exec('ip', ['-br', 'link']), hostLinks, 'no host link changed');
    t.same(allocations(l.dataDir, network).sort(), allocated, 'A\'s address is still allocated');
    t.ok(spawnSync('nsenter', [`--net=${l.node.path}`, 'busybox', 'ping', '-c', '1', '-W', '2', addrOf(addA)]).status === 0, 'A answers');
    t.equal(cni(l.node, String(conf.type), { command: 'DEL', containerId: idA, netns: a.path }, conf).status, 0);
  });
}

t.test('berth: host veth names squatted by links that are not ours: a clean error, none of them touched', async (t) => {
  const network = 'secsquat';
  const l = lab(t, network, '10.87.0.0/24');
  const c = l.ctr();
  const names = hostVethNames({ network, containerId: 'victim', ifname: 'eth0' });
  // veths, like ours, but not marked as this attachment's (another tool's, or an attacker's)
  names.forEach((n, i) => l.node.exec('ip', ['link', 'add', n, 'type', 'veth', 'peer', 'name', `squat${i}`]));
  // the bridge is the network's, made by the first ADD whatever its outcome; every other link must stay as it was
  const others = (): string => l.node.exec('ip', ['-o', 'link']).split('\n').filter((x) => !x.includes('br-sec')).join('\n');
  const before = others();
  const r = cni(l.node, 'berth-bridge', { command: 'ADD', containerId: 'victim', netns: c.path }, l.bridge('berth'));
  t.equal(r.status, 1);
  t.match(r.json, { cniVersion: '1.0.0', code: Number, msg: /all taken by other attachments/ }, 'the spec\'s error JSON');
  t.ok((r.json as { code: number }).code > 0, 'a non-zero code');
  for (const n of names) t.match(linkOf(l.node, n), n, `${n} is still there`);
  t.same(allocations(l.dataDir, network), [], 'nothing allocated');
  t.equal(c.run('ip', ['link', 'show', 'eth0']).status, 1, 'no container interface');
  const del = cni(l.node, 'berth-bridge', { command: 'DEL', containerId: 'victim', netns: c.path }, l.bridge('berth'));
  t.equal(del.status, 0, 'DEL succeeds');
  for (const n of names) t.match(linkOf(l.node, n), n, `${n} survives the DEL too`);
  t.equal(others(), before, 'no other host link changed at all');
});

t.test('berth: a host veth this attachment left behind (a failed earlier ADD) is replaced; the next name\'s squatter is not touched', async (t) => {
  const network = 'secleft';
  const l = lab(t, network, '10.88.0.0/24');
  const c = l.ctr();
  const attachment = { network, containerId: 'again', ifname: 'eth0' };
  const [first, second] = hostVethNames(attachment);
  // what an ADD killed after creating its pair leaves: the host end under the attachment's name and mark
  l.node.exec('ip', ['link', 'add', first, 'type', 'veth', 'peer', 'name', 'left0']);
  l.node.exec('ip', ['link', 'set', first, 'alias', attachmentMark(attachment)]);
  l.node.exec('ip', ['link', 'add', second, 'type', 'veth', 'peer', 'name', 'squat1']);
  const index = (name: string): string => /^(\d+):/.exec(l.node.exec('ip', ['-o', 'link', 'show', name]))?.[1] ?? '';
  const [leftIndex, squatIndex] = [index(first), index(second)];
  const r = cni(l.node, 'berth-bridge', { command: 'ADD', containerId: 'again', netns: c.path }, l.bridge('berth'));
  t.equal(r.status, 0, r.stdout);
  const hostIf = ((r.json as { interfaces?: { name: string; sandbox?: string }[] })?.interfaces ?? []).find((i) => !i.sandbox && i.name !== 'br-sec');
  t.equal(hostIf?.name, first, 'the ADD took its own first name again');
  t.not(index(first), leftIndex, 'a new link under it: the leftover was deleted, not reused');
  t.equal(l.node.run('ip', ['link', 'show', 'left0']).status, 1, 'the leftover pair is gone');
  t.equal(index(second), squatIndex, 'the next name\'s link (not ours) is untouched');
  t.equal(c.run('ip', ['link', 'show', 'eth0']).status, 0, 'the container has eth0');
  const del = cni(l.node, 'berth-bridge', { command: 'DEL', containerId: 'again', netns: c.path }, l.bridge('berth'));
  t.equal(del.status, 0, 'DEL succeeds');
  t.equal(l.node.run('ip', ['link', 'show', first]).status, 1, 'DEL removed it');
  t.equal(index(second), squatIndex, 'and left the squatter alone');
});

for (const type of ['reference', 'berth']) {
  t.test(`${type}: CNI_IFNAME the container already has: a clean error; that link, and a leftover host veth of the attachment's, untouched`, async (t) => {
    const network = 'secifname';
    const l = lab(t, network, '10.89.0.0/24');
    const c = l.ctr();
    c.exec('ip', ['link', 'add', 'eth0', 'type', 'bridge']);
    const before = c.exec('ip', ['-o', 'link', 'show', 'eth0']);
    const hostLinks = (): string => l.node.exec('ip', ['-o', 'link']).split('\n').filter((x) => !x.includes('br-sec')).map((x) => x.replace(/^\d+: /, '').split(' ')[0]).join(' ');
    const add = () => cni(l.node, type === 'reference' ? 'bridge' : 'berth-bridge', { command: 'ADD', containerId: 'taken', netns: c.path }, l.bridge(type));
    const links = hostLinks();
    const r = add();
    t.equal(r.status, 1, r.stdout);
    t.ok((r.json as { code?: number })?.code, 'the spec\'s error JSON with a code');
    if (type === 'berth') t.match(r.json, { msg: /container interface eth0 already exists/ });
    t.equal(c.exec('ip', ['-o', 'link', 'show', 'eth0']), before, 'the container\'s eth0 is as it was');
    t.equal(hostLinks(), links, 'no host link left behind');
    t.same(allocations(l.dataDir, network), [], 'nothing allocated');
    if (type !== 'berth') return;
    // the host name is taken too, by what a failed ADD of this attachment left: the container's name is
    // the error, and the leftover is not deleted on the way to it
    const attachment = { network, containerId: 'taken', ifname: 'eth0' };
    const [first] = hostVethNames(attachment);
    l.node.exec('ip', ['link', 'add', first, 'type', 'veth', 'peer', 'name', 'left0']);
    l.node.exec('ip', ['link', 'set', first, 'alias', attachmentMark(attachment)]);
    const leftover = l.node.exec('ip', ['-o', 'link', 'show', first]).split(':')[0];
    const again = add();
    t.equal(again.status, 1, again.stdout);
    t.match(again.json, { msg: /container interface eth0 already exists/ });
    t.equal(l.node.exec('ip', ['-o', 'link', 'show', first]).split(':')[0], leftover, 'the leftover is the same link');
    t.equal(c.exec('ip', ['-o', 'link', 'show', 'eth0']), before, 'the container\'s eth0 still as it was');
  });
}

/** Runs a plugin with a wall-clock bound; the CNI call must answer within it. */
function boundedCni(node: TestNetns, type: string, command: string, netns: string, conf: object, ms: number): { status: number | null; timedOut: boolean; json?: Record<string, unknown>; took: number } {
  const file = CNI_PATH.split(':').map((d) => `${d}/${type}`).find((f) => fs.existsSync(f))!;
  const start = Date.now();
  const r = spawnSync('nsenter', [`--net=${node.path}`, file], {
    input: JSON.stringify(conf), timeout: ms, killSignal: 'SIGKILL', encoding: 'utf8',
    env: { PATH: process.env.PATH, BERTH_NO_AUTOSTART: '1', CNI_COMMAND: command, CNI_CONTAINERID: 'fifo1', CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_PATH },
  });
  let json: Record<string, unknown> | undefined;
  try { json = JSON.parse(r.stdout); } catch { json = undefined; }
  return { status: r.status, timedOut: r.signal !== null, json, took: Date.now() - start };
}

t.test('CNI_NETNS naming a FIFO, a regular file or a directory: an error within a bounded time', async (t) => {
  const l = lab(t, 'secnetns', '10.86.0.0/24');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-seccni-netns-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const fifo = path.join(dir, 'fifo');
  spawnSync('mkfifo', [fifo]);
  const file = path.join(dir, 'file');
  fs.writeFileSync(file, 'not a namespace');
  for (const target of [fifo, file, dir, '/proc/self/ns/mnt']) {
    for (const type of ['reference', 'berth']) {
      const conf = l.bridge(type);
      const r = boundedCni(l.node, String(conf.type), 'ADD', target, conf, 10000);
      t.notOk(r.timedOut, `${type} ADD with ${target} answers (${r.took} ms)`);
      t.equal(r.status, 1, `${type}: an error`);
      if (type === 'berth') t.match(r.json, { code: 4, msg: /^CNI_NETNS: .*is not a network namespace/ }, 'code 4 naming CNI_NETNS');
      else t.match(r.json, { code: Number }, 'control: the reference refuses it too');
      const del = boundedCni(l.node, String(conf.type), 'DEL', target, conf, 10000);
      t.notOk(del.timedOut, `${type} DEL with ${target} answers (${del.took} ms)`);
      if (type === 'berth') t.equal(del.status, 0, 'berth: DEL needs no netns to remove nothing, and succeeds');
    }
  }
  t.same(l.node.exec('ip', ['-br', 'link']).split('\n').filter((x) => x.startsWith('veth')), [], 'no veth left');
  t.same(allocations(l.dataDir, 'secnetns'), [], 'no address left allocated');
});

t.test('an IPAM gateway or range bound outside its subnet: refused at ADD naming the field, nothing allocated', async (t) => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ subnet: '10.85.0.0/24', gateway: '10.84.0.1' }, /^ipam\.gateway: 10\.84\.0\.1 is not a usable address of 10\.85\.0\.0\/24/],
    [{ ranges: [[{ subnet: '10.85.0.0/24', gateway: '192.168.77.1' }]] }, /^ipam\.ranges\[0\]\[0\]\.gateway:/],
    [{ subnet: '10.85.0.0/24', rangeStart: '10.85.1.10' }, /^ipam\.rangeStart:/],
  ];
  for (const [ipam, msg] of cases) {
    const l = lab(t, 'secgw', '10.85.0.0/24');
    for (const type of ['berth', 'reference']) {
      const c = l.ctr();
      const conf: Record<string, unknown> = { ...l.bridge(type), isDefaultGateway: true };
      conf.ipam = { ...(conf.ipam as object), subnet: undefined, ...ipam };
      const r = cni(l.node, String(conf.type), { command: 'ADD', containerId: `gw-${type}`, netns: c.path }, conf);
      // control: the reference takes the config, allocates, then fails late (no route via that gateway) or,
      // for rangeStart, in IPAM; it releases the address but leaves the veth pair behind
      t.equal(r.status, 1, `${type} ADD with ${JSON.stringify(ipam)} fails: ${r.stdout}`);
      t.same(allocations(l.dataDir, 'secgw'), [], `${type}: nothing allocated`);
      if (type !== 'berth') continue;
      t.match(r.json, { code: 7, msg }, 'berth refuses it in validation, naming the field');
      t.equal(c.run('ip', ['link', 'show', 'eth0']).status, 1, 'no container interface');
      t.same(l.node.exec('ip', ['-br', 'link']).split('\n').filter((x) => x.startsWith('veth')), [], 'no veth left');
    }
  }
});
