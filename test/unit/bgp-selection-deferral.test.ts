// RFC 4724 §4.1, the Restarting Speaker: route selection per family waits for End-of-RIB from every peer
// with the graceful-restart capability and without its R bit, or for the Selection_Deferral_Timer.
// First the rules on SelectionDeferral with fake timers, then a restarted speaker against raw peers: what it
// hands the FIB (onBestChange / onSelectionDone) and what it sends, before and after selection.
import t, { type Test } from 'tap';
import { SelectionDeferral, type DeferralTimers, type SelectionEnd } from '../../lib/cni/bgp/selection-deferral';
import { BgpSpeaker, type BestChange } from '../../lib/cni/bgp/speaker';
import { AFI, encodeMessage, endOfRib, isEndOfRib, type Afi, type BgpMessage, type Capabilities } from '../../lib/cni/bgp/codec';
import { RawPeer } from '../helpers/bgp-raw-peer';
import { freeLoopbackPort, until } from '../helpers/wait';

/** a clock and timers that move only when told */
function fakeTimers(): DeferralTimers & { advance(ms: number): void } {
  let now = 0;
  let next = 1;
  const pending = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout: (fn, ms) => { const id = next++; pending.set(id, { at: now + ms, fn }); return id; },
    clearTimeout: (id) => { pending.delete(id as number); },
    advance(ms) {
      now += ms;
      for (const [id, p] of [...pending]) if (p.at <= now) { pending.delete(id); p.fn(); }
    },
  };
}

function deferral(seconds = 30): { d: SelectionDeferral; done: Array<[Afi, SelectionEnd]>; clock: ReturnType<typeof fakeTimers> } {
  const clock = fakeTimers();
  const done: Array<[Afi, SelectionEnd]> = [];
  const d = new SelectionDeferral([AFI.IPV4, AFI.IPV6], seconds, (afi, why) => done.push([afi, why]), clock);
  return { d, done, clock };
}

const GR = { gracefulRestart: true, restarting: false, families: [AFI.IPV4, AFI.IPV6] };

t.test('selection waits for End-of-RIB from every graceful-restart peer, per family', async (t) => {
  const { d, done } = deferral();
  d.addPeer('a');
  d.addPeer('b');
  d.start();
  d.established('a', GR);
  d.established('b', GR);
  d.endOfRib('a', AFI.IPV4);
  t.same(done, [], 'one of two End-of-RIBs: still deferred');
  t.same(d.status().map((f) => [f.family, f.waitingFor]), [['ipv4', ['b']], ['ipv6', ['a', 'b']]]);
  d.endOfRib('b', AFI.IPV4);
  t.same(done, [[AFI.IPV4, 'end-of-rib']], 'IPv4 selected once both sent theirs');
  t.ok(d.deferred(AFI.IPV6), 'IPv6 still deferred: its End-of-RIBs are its own');
  d.endOfRib('a', AFI.IPV6);
  d.endOfRib('b', AFI.IPV6);
  t.same(done, [[AFI.IPV4, 'end-of-rib'], [AFI.IPV6, 'end-of-rib']]);
  t.notOk(d.active, 'nothing deferred');
});

t.test('peers without the capability, with the R bit set, or without the family are not waited for', async (t) => {
  const { d, done } = deferral();
  for (const id of ['plain', 'restarting', 'v4only', 'gr']) d.addPeer(id);
  d.start();
  d.established('plain', { gracefulRestart: false, restarting: false, families: [AFI.IPV4, AFI.IPV6] });
  d.established('restarting', { gracefulRestart: true, restarting: true, families: [AFI.IPV4, AFI.IPV6] });
  d.established('v4only', { gracefulRestart: true, restarting: false, families: [AFI.IPV4] });
  t.same(d.status().map((f) => [f.family, f.waitingFor]), [['ipv4', ['gr', 'v4only']], ['ipv6', ['gr']]], 'only the graceful-restart peers still awaited');
  d.established('gr', GR);
  d.endOfRib('gr', AFI.IPV6);
  t.same(done, [[AFI.IPV6, 'end-of-rib']], 'IPv6 needs only gr\'s End-of-RIB');
  d.endOfRib('gr', AFI.IPV4);
  t.same(done, [[AFI.IPV6, 'end-of-rib']], 'IPv4 still waits for v4only');
  d.endOfRib('v4only', AFI.IPV4);
  t.same(done.at(-1), [AFI.IPV4, 'end-of-rib']);
});

t.test('a peer whose session never comes up, or never sends End-of-RIB, holds selection only until the timer', async (t) => {
  const { d, done, clock } = deferral(30);
  d.addPeer('late');
  d.addPeer('silent');
  d.start();
  d.established('silent', GR);
  clock.advance(10_000);
  t.same(d.status(), [
    { family: 'ipv4', waitingFor: ['late', 'silent'], secondsLeft: 20 },
    { family: 'ipv6', waitingFor: ['late', 'silent'], secondsLeft: 20 },
  ], 'status: who is awaited, time left');
  clock.advance(19_999);
  t.same(done, [], 'not before the timer');
  clock.advance(1);
  t.same(done, [[AFI.IPV4, 'timer'], [AFI.IPV6, 'timer']], 'both families at the timer');
  d.endOfRib('silent', AFI.IPV4);
  t.equal(done.length, 2, 'a late End-of-RIB changes nothing');
});

t.test('nobody to wait for: selection at start; a removed peer is not waited for', async (t) => {
  const a = deferral();
  a.d.start();
  t.same(a.done, [[AFI.IPV4, 'end-of-rib'], [AFI.IPV6, 'end-of-rib']], 'no peers: done at start');
  const b = deferral();
  b.d.addPeer('x');
  b.d.start();
  t.same(b.done, [], 'a configured peer is waited for before its session is up');
  b.d.removePeer('x');
  t.equal(b.done.length, 2, 'removed: done');
});

// ---------- a restarted speaker against raw peers ----------

const ACCEPT = { rules: [], default: 'accept' as const };
const ATTRS = { origin: 0 as const, asPath: [{ type: 2 as const, asns: [65002] }], nextHop: '127.0.0.1' };
const grCap = (restarting = false): Partial<Capabilities> => ({ gracefulRestart: { restarting, notification: false, restartTime: 60, families: [{ afi: AFI.IPV4, safi: 1, forwardingPreserved: true }] } });
const OUR_BLOCK = '10.244.1.0/24';

interface Restarted { speaker: BgpSpeaker; changes: BestChange[]; selected: Array<[Afi, SelectionEnd]>; peer: RawPeer }

/** A speaker back from a restart (R bit, selection deferred) and one raw peer connected to it. */
async function restarted(t: Test, o: { deferral?: number; caps?: Partial<Capabilities> } = {}): Promise<Restarted> {
  const port = await freeLoopbackPort();
  const changes: BestChange[] = [];
  const selected: Array<[Afi, SelectionEnd]> = [];
  const speaker = new BgpSpeaker({
    asn: 65001, routerId: '10.0.0.1', listen: { address: '127.0.0.1', port }, originate: [OUR_BLOCK], restarted: true,
    selectionDeferral: o.deferral ?? 30, onBestChange: (c) => changes.push(...c), onSelectionDone: (afi, why) => selected.push([afi, why]),
    peers: [{ address: '127.0.0.1', asn: 65002, passive: true, importPolicy: ACCEPT, exportPolicy: ACCEPT }],
  });
  await speaker.start();
  await until('speaker ready', () => speaker.peerState('127.0.0.1') === 'Active');
  const peer = new RawPeer(port);
  t.teardown(async () => { peer.sock.destroy(); await speaker.stop(); });
  await peer.establish(o.caps ?? grCap(), 90, false);
  await until('established', () => speaker.peerState('127.0.0.1') === 'Established');
  return { speaker, changes, selected, peer };
}

/** the UPDATEs the peer got within `ms` */
async function updates(p: RawPeer, ms = 300): Promise<Extract<BgpMessage, { type: 'update' }>[]> {
  const out: Extract<BgpMessage, { type: 'update' }>[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const m = await p.next(Math.max(1, end - Date.now()));
    if (m?.type === 'update') out.push(m);
  }
  return out;
}

const eors = (us: Extract<BgpMessage, { type: 'update' }>[]): Afi[] => us.map((u) => isEndOfRib(u)).filter((a): a is Afi => a !== undefined);

t.test('restarted speaker: the peer\'s routes reach the FIB and our table reaches the peer only after its End-of-RIB', async (t) => {
  const { speaker, changes, selected, peer } = await restarted(t);
  peer.send(encodeMessage({ type: 'update', withdrawn: [], attrs: ATTRS, nlri: ['10.60.0.0/16', '10.61.0.0/16'] }));
  peer.send(encodeMessage({ type: 'update', withdrawn: ['10.61.0.0/16'], attrs: {}, nlri: [] }));
  await until('routes learnt', () => speaker.routes().some((r) => r.prefix === '10.60.0.0/16'));
  let got = await updates(peer);
  t.same(got, [], 'nothing sent to the peer while selection is deferred: no partial table, no End-of-RIB');
  t.same(changes, [], 'no change handed to the FIB while selection is deferred');
  t.same(speaker.peers()[0].awaitingEndOfRib, ['ipv4', 'ipv6'], 'status: this peer\'s End-of-RIB is awaited');
  peer.send(encodeMessage(endOfRib(AFI.IPV4)));
  await until('IPv4 selected', () => selected.length === 1);
  t.same(selected, [[AFI.IPV4, 'end-of-rib']]);
  t.same([...speaker.bestRoutesIter()].filter((r) => !r.source.local).map((r) => r.prefix), ['10.60.0.0/16'], 'the Loc-RIB the consumer reconciles from');
  got = await updates(peer);
  t.same(got.flatMap((u) => u.nlri), [OUR_BLOCK], 'our block after selection');
  t.same(eors(got), [AFI.IPV4], 'then our IPv4 End-of-RIB; IPv6 still deferred');
  t.same(speaker.selectionDeferral().map((f) => f.family), ['ipv6']);
  // IPv4 is selected: its changes go to the FIB as they come
  peer.send(encodeMessage({ type: 'update', withdrawn: [], attrs: ATTRS, nlri: ['10.62.0.0/16'] }));
  await until('a later change reaches the FIB', () => changes.some((c) => c.prefix === '10.62.0.0/16'));
  peer.send(encodeMessage(endOfRib(AFI.IPV6)));
  await until('IPv6 selected', () => selected.length === 2);
  t.same(eors(await updates(peer)), [AFI.IPV6], 'our IPv6 End-of-RIB after the peer\'s');
  t.same(speaker.selectionDeferral(), []);
  t.equal(speaker.peers()[0].awaitingEndOfRib, undefined);
});

t.test('restarted speaker: a peer that never sends End-of-RIB holds selection only until the timer', async (t) => {
  const { speaker, selected, peer } = await restarted(t, { deferral: 1 });
  peer.send(encodeMessage({ type: 'update', withdrawn: [], attrs: ATTRS, nlri: ['10.60.0.0/16'] }));
  t.same(await updates(peer, 200), [], 'deferred at first');
  const left = speaker.selectionDeferral()[0].secondsLeft;
  t.ok(left >= 0 && left <= 1, `time left shown: ${left} s`);
  await until('timer', () => selected.length === 2, 3000);
  t.same(selected, [[AFI.IPV4, 'timer'], [AFI.IPV6, 'timer']]);
  const got = await updates(peer);
  t.same(got.flatMap((u) => u.nlri), [OUR_BLOCK], 'our table once the timer ran out');
  t.same(eors(got).sort(), [AFI.IPV4, AFI.IPV6], 'and both End-of-RIBs');
});

for (const [name, caps] of [['with its R bit set', grCap(true)], ['without the graceful-restart capability', {}]] as const) {
  t.test(`restarted speaker: a peer ${name} is not waited for`, async (t) => {
    const { selected, peer } = await restarted(t, { caps });
    await until('selected at once', () => selected.length === 2, 3000);
    t.same(selected, [[AFI.IPV4, 'end-of-rib'], [AFI.IPV6, 'end-of-rib']]);
    const got = await updates(peer);
    t.same(got.flatMap((u) => u.nlri), [OUR_BLOCK], 'our table sent at once');
    t.same(eors(got).sort(), [AFI.IPV4, AFI.IPV6]);
  });
}

t.test('speaker option: a deferral that is not a positive number of seconds is refused, naming the field', async (t) => {
  t.throws(() => new BgpSpeaker({ asn: 65001, routerId: '10.0.0.1', peers: [], originate: [], selectionDeferral: 0 }), /selectionDeferral/);
});
