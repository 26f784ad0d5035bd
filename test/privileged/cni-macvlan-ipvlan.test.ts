// berth-macvlan and berth-ipvlan on a veth end as master (this kernel has no dummy links) inside a lab
// namespace, with the reference macvlan/ipvlan plugins (/usr/lib/cni) on the same master as the control:
// ours and theirs reach each other and the outside namespace across the master's wire.
import t from 'tap';
import * as fs from 'node:fs';
import { cni, createNetns, nodeOutsideLab, type TestNetns } from '../helpers/netns';

const REFERENCE = '/usr/lib/cni';

/** Whether the kernel has the link type (this machine's has macvlan but no ipvlan), tried in a scratch netns. */
function kernelHas(kind: string): boolean {
  const ns = createNetns('pods-plugins-kind');
  try {
    ns.exec('ip', ['link', 'add', 'k0', 'type', 'veth', 'peer', 'name', 'k1']);
    return ns.run('ip', ['link', 'add', 'link', 'k0', 'name', 'k2', 'type', kind]).status === 0;
  } finally {
    ns.remove();
  }
}

function ping(ns: TestNetns, ip: string): boolean {
  return ns.run('busybox', ['ping', '-c', '1', '-W', '2', ip]).status === 0;
}

for (const [type, ref, modes] of [['berth-macvlan', 'macvlan', ['bridge', 'private', 'vepa']], ['berth-ipvlan', 'ipvlan', ['l2', 'l3', 'l3s']]] as const) {
  for (const mode of modes) {
    t.test(`${type} mode ${mode}, beside the reference ${ref}`, async (t) => {
      if (!fs.existsSync(`${REFERENCE}/${ref}`)) throw new Error(`${REFERENCE}/${ref} missing: install containernetworking-plugins (scripts/setup.sh)`);
      const { node, outside, ctr, dataDir } = nodeOutsideLab(t);
      const peer = createNetns('pods-plugins-peer');
      t.teardown(() => peer.remove());
      // the reference plugins speak CNI up to 1.0.0
      const ipam = { type: 'host-local', ranges: [[{ subnet: '192.168.200.0/24', rangeStart: '192.168.200.100', rangeEnd: '192.168.200.150' }]], dataDir, routes: [{ dst: '0.0.0.0/0' }] };
      const conf = (plugin: string) => ({ cniVersion: '1.0.0', name: `lower-${mode}`, type: plugin, master: 'up0', mode, ipam });
      const add = (ns: TestNetns, plugin: string) => cni(node, plugin, { command: 'ADD', containerId: ns.name, netns: ns.path }, conf(plugin));
      if (!kernelHas(ref)) {
        // no driver: ours fails as the reference does, with the reason, and leaves no address allocated
        const ours = add(ctr, type);
        const theirs = add(peer, ref);
        t.not(ours.status, 0, 'ours fails without the driver');
        t.not(theirs.status, 0, 'so does the reference');
        t.match(String(ours.json?.msg), new RegExp(`this kernel has no ${ref} driver`));
        const allocated = fs.existsSync(`${dataDir}/lower-${mode}`) ? fs.readdirSync(`${dataDir}/lower-${mode}`).filter((f) => /^\d+\./.test(f)) : [];
        t.same(allocated, [], 'no address left allocated');
        return;
      }
      const ours = add(ctr, type);
      t.equal(ours.status, 0, ours.stderr + ours.stdout);
      const theirs = add(peer, ref);
      t.equal(theirs.status, 0, theirs.stderr + theirs.stdout);
      const ourIp = String((ours.json!.ips as { address: string }[])[0].address).split('/')[0];
      const theirIp = String((theirs.json!.ips as { address: string }[])[0].address).split('/')[0];
      const kind = ctr.exec('ip', ['-d', '-o', 'link', 'show', 'eth0']);
      t.match(kind, new RegExp(`${ref} mode ${mode}\\b`), `eth0 is a ${ref} in mode ${mode}: ${kind}`);
      t.match(peer.exec('ip', ['-d', '-o', 'link', 'show', 'eth0']), new RegExp(`${ref} mode ${mode}\\b`), 'the reference made the same kind');
      if (mode === 'l3' || mode === 'l3s') {
        // the master routes for its l3 slaves: the outside needs a route back through the node's address
        outside.exec('ip', ['route', 'add', '192.168.200.96/27', 'via', '192.168.200.1']);
      }
      t.ok(ping(ctr, '192.168.200.2'), 'ours reaches the outside namespace over the master\'s wire');
      // private and vepa forbid or hairpin sibling traffic on the master (no VEPA switch here)
      if (mode === 'private' || mode === 'vepa') t.notOk(ping(ctr, theirIp), `${mode}: siblings on one master do not talk without a hairpinning switch`);
      else t.ok(ping(ctr, theirIp), 'ours reaches the reference plugin\'s container on the same master');
      t.equal(cni(node, type, { command: 'CHECK', containerId: ctr.name, netns: ctr.path }, { ...conf(type), prevResult: ours.json }).status, 0, 'CHECK passes');
      t.equal(cni(node, ref, { command: 'CHECK', containerId: ctr.name, netns: ctr.path }, { ...conf(ref), prevResult: ours.json }).status, 0, 'the reference CHECK agrees with our attachment');
      // STATUS is a CNI 1.1 verb: with berth-ipam (host-local stops at 1.0.0)
      const status = { ...conf(type), cniVersion: '1.1.0', ipam: { type: 'berth-ipam', subnet: '192.168.200.0/24', dataDir } };
      const ready = cni(node, type, { command: 'STATUS' }, status);
      t.equal(ready.status, 0, `STATUS ready: ${ready.stdout}`);
      t.match(String(cni(node, type, { command: 'STATUS' }, { ...status, master: 'nosuch0' }).json?.msg), /master: interface "nosuch0" does not exist/, 'STATUS: not ready without the master');
      const del = cni(node, type, { command: 'DEL', containerId: ctr.name, netns: ctr.path }, conf(type));
      t.equal(del.status, 0, del.stderr + del.stdout);
      t.not(ctr.run('ip', ['link', 'show', 'eth0']).status, 0, 'eth0 gone');
      t.notOk(fs.readdirSync(`${dataDir}/lower-${mode}`).includes(ourIp), 'our address released');
      t.equal(cni(node, type, { command: 'DEL', containerId: ctr.name, netns: ctr.path }, conf(type)).status, 0, 'DEL again: idempotent');
      cni(node, ref, { command: 'DEL', containerId: peer.name, netns: peer.path }, conf(ref));
    });
  }
}

t.test('bad config: spec error code 7 naming the field', async (t) => {
  const { node, ctr, dataDir } = nodeOutsideLab(t);
  const ipam = { type: 'host-local', subnet: '192.168.200.0/24', dataDir };
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['berth-macvlan', { master: 'up0', mode: 'bogus', ipam }, /^mode: unknown macvlan mode "bogus"/],
    ['berth-ipvlan', { master: 'up0', mode: 'l4', ipam }, /^mode: unknown ipvlan mode "l4"/],
    ['berth-macvlan', { mode: 'bridge', ipam }, /^master: missing/],
  ];
  for (const [type, extra, re] of cases) {
    const r = cni(node, type, { command: 'ADD', containerId: 'bad', netns: ctr.path }, { cniVersion: '1.1.0', name: 'bad', type, ...extra });
    t.not(r.status, 0);
    t.equal(r.json?.code, 7, r.stdout);
    t.match(String(r.json?.msg), re);
  }
  const missing = cni(node, 'berth-ipvlan', { command: 'ADD', containerId: 'bad', netns: ctr.path }, { cniVersion: '1.1.0', name: 'bad', type: 'berth-ipvlan', master: 'nosuch0', ipam });
  t.match(String(missing.json?.msg), /^master: interface "nosuch0" does not exist/);
  t.not(ctr.run('ip', ['link', 'show', 'eth0']).status, 0, 'nothing made in the container');
});

t.test('berth-macvlan passthru: the one sub-interface of its master, reaches the outside; DEL gives it back', async (t) => {
  const { node, ctr, dataDir } = nodeOutsideLab(t);
  const conf = { cniVersion: '1.1.0', name: 'lower-passthru', type: 'berth-macvlan', master: 'up0', mode: 'passthru', ipam: { type: 'berth-ipam', subnet: '192.168.200.0/24', rangeStart: '192.168.200.100', rangeEnd: '192.168.200.150', dataDir } };
  const add = cni(node, 'berth-macvlan', { command: 'ADD', containerId: 'pt', netns: ctr.path }, conf);
  t.equal(add.status, 0, add.stderr + add.stdout);
  t.match(ctr.exec('ip', ['-d', '-o', 'link', 'show', 'eth0']), /macvlan mode passthru/);
  t.ok(ping(ctr, '192.168.200.2'), 'reaches the outside namespace');
  const second = cni(node, 'berth-macvlan', { command: 'ADD', containerId: 'pt2', netns: createNetnsFor(t).path }, conf);
  t.not(second.status, 0, 'a passthru master takes one sub-interface only');
  t.equal(cni(node, 'berth-macvlan', { command: 'DEL', containerId: 'pt', netns: ctr.path }, conf).status, 0);
  t.not(ctr.run('ip', ['link', 'show', 'eth0']).status, 0, 'eth0 gone');
});

function createNetnsFor(t: { teardown(fn: () => void): void }): TestNetns {
  const ns = createNetns('pods-plugins-pt');
  t.teardown(() => ns.remove());
  return ns;
}
