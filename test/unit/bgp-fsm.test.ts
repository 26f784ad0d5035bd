import t from 'tap';
import { Fsm, resolveCollision, type FsmAction, type FsmConfig } from '../../lib/cni/bgp/fsm';
import { BgpError, emptyCapabilities, type OpenMessage } from '../../lib/cni/bgp/codec';

function config(over: Partial<FsmConfig> = {}): FsmConfig {
  const capabilities = emptyCapabilities();
  capabilities.fourOctetAs = 65001;
  capabilities.multiprotocol.push({ afi: 1, safi: 1 }, { afi: 2, safi: 1 });
  return { localAs: 65001, routerId: '10.0.0.1', peerAs: 65002, holdTime: 90, connectRetryTime: 5, idleHoldTime: 2, passive: false, capabilities, ...over };
}
function peerOpen(over: Partial<OpenMessage> = {}): OpenMessage {
  const capabilities = emptyCapabilities();
  capabilities.fourOctetAs = 65002;
  capabilities.multiprotocol.push({ afi: 1, safi: 1 });
  return { type: 'open', version: 4, asn: 65002, holdTime: 30, routerId: '10.0.0.2', capabilities, ...over };
}
const sent = (a: FsmAction[]): string[] => a.flatMap((x) => (x.type === 'send' ? [x.message.type === 'notification' ? `notification ${x.message.code}/${x.message.subcode}` : x.message.type] : []));
const kinds = (a: FsmAction[]): string[] => a.map((x) => x.type);

/** drives an FSM to Established at time 0 and returns it */
function established(over: Partial<FsmConfig> = {}, open = peerOpen()): Fsm {
  const f = new Fsm(config(over));
  f.handle({ type: 'ManualStart' }, 0);
  f.handle({ type: 'TcpConnectionSucceeds' }, 0);
  f.handle({ type: 'Message', message: open }, 0);
  f.handle({ type: 'Message', message: { type: 'keepalive' } }, 0);
  return f;
}

t.test('an active peer walks Idle > Connect > OpenSent > OpenConfirm > Established', async (t) => {
  const f = new Fsm(config());
  t.same(kinds(f.handle({ type: 'ManualStart' }, 0)), ['connect']);
  t.equal(f.state, 'Connect');
  t.same(sent(f.handle({ type: 'TcpConnectionSucceeds' }, 100)), ['open']);
  t.equal(f.state, 'OpenSent');
  t.equal(f.nextDeadline(), 100 + 240_000, 'hold timer at 4 minutes while waiting for OPEN');
  t.same(sent(f.handle({ type: 'Message', message: peerOpen() }, 200)), ['keepalive']);
  t.equal(f.state, 'OpenConfirm');
  t.equal(f.negotiated?.holdTime, 30, 'hold time is the smaller of 90 and 30');
  t.equal(f.negotiated?.keepaliveTime, 10, 'keepalive is a third of it');
  t.same(f.negotiated?.families, [{ afi: 1, safi: 1 }], 'only families both sides announced');
  t.equal(f.negotiated?.as4, true);
  t.equal(f.negotiated?.peerRouterId, '10.0.0.2');
  const a = f.handle({ type: 'Message', message: { type: 'keepalive' } }, 300);
  t.same(kinds(a), ['established']);
  t.equal(f.state, 'Established');
});

t.test('keepalives go out every hold/3 and silence for the hold time sends 4/0 and drops the session', async (t) => {
  const f = established();
  t.same(sent(f.expire(9_999)), [], 'nothing before 10 s');
  t.same(sent(f.expire(10_000)), ['keepalive']);
  t.same(sent(f.expire(20_000)), ['keepalive']);
  // an UPDATE at 25 s restarts the hold timer: no expiry at 30 s
  t.same(kinds(f.handle({ type: 'Message', message: { type: 'update', withdrawn: [], attrs: {}, nlri: [] } }, 25_000)), ['update']);
  t.notOk(sent(f.expire(30_000)).includes('notification 4/0'), 'hold restarted by UPDATE');
  const a = f.expire(55_000);
  t.ok(sent(a).includes('notification 4/0'), 'hold timer expired');
  t.ok(kinds(a).includes('down'));
  t.equal(f.state, 'Idle');
  t.ok(f.timerRunning('idleHold'), 'automatic restart scheduled');
  t.same(kinds(f.expire(57_000)), ['connect'], 'restarts after the idle hold time');
});

t.test('hold time 0 means no keepalives and no hold timer', async (t) => {
  const f = established({ holdTime: 0 });
  t.equal(f.negotiated?.holdTime, 0);
  t.equal(f.nextDeadline(), undefined);
  t.equal(f.state, 'Established');
});

t.test('a passive peer never connects, it waits in Active for the peer', async (t) => {
  const f = new Fsm(config({ passive: true }));
  t.same(kinds(f.handle({ type: 'ManualStart' }, 0)), []);
  t.equal(f.state, 'Active');
  t.same(kinds(f.expire(5_000)), [], 'retry timer does not connect');
  t.equal(f.state, 'Active');
  t.same(sent(f.handle({ type: 'TcpConnectionConfirmed' }, 6_000)), ['open']);
  t.equal(f.state, 'OpenSent');
});

t.test('a failed connect waits in Active and retries after ConnectRetryTime', async (t) => {
  const f = new Fsm(config());
  f.handle({ type: 'ManualStart' }, 0);
  f.handle({ type: 'TcpConnectionFails' }, 1_000);
  t.equal(f.state, 'Active');
  t.same(kinds(f.expire(5_999)), []);
  t.same(kinds(f.expire(6_000)), ['connect']);
  t.equal(f.state, 'Connect');
});

t.test('OPEN checks: wrong AS is 2/2 with the AS as data, same identifier inside the AS is 2/3', async (t) => {
  const f = new Fsm(config());
  f.handle({ type: 'ManualStart' }, 0);
  f.handle({ type: 'TcpConnectionSucceeds' }, 0);
  const a = f.handle({ type: 'Message', message: peerOpen({ asn: 65099 }) }, 0);
  t.same(sent(a), ['notification 2/2']);
  const n = a.find((x) => x.type === 'send');
  t.same(n?.type === 'send' && n.message.type === 'notification' ? n.message.data : null, Buffer.from([0xfe, 0x4b]));
  t.equal(f.state, 'Idle');
  const g = new Fsm(config({ peerAs: 65001 }));
  g.handle({ type: 'ManualStart' }, 0);
  g.handle({ type: 'TcpConnectionSucceeds' }, 0);
  t.same(sent(g.handle({ type: 'Message', message: peerOpen({ asn: 65001, routerId: '10.0.0.1' }) }, 0)), ['notification 2/3']);
  t.equal(established({}, peerOpen({ routerId: '10.0.0.1' })).state, 'Established', 'eBGP may share the identifier (RFC 6286)');
});

t.test('unexpected messages are FSM errors with RFC 6608 subcodes; decode errors send their NOTIFICATION', async (t) => {
  const f = new Fsm(config());
  f.handle({ type: 'ManualStart' }, 0);
  f.handle({ type: 'TcpConnectionSucceeds' }, 0);
  t.same(sent(f.handle({ type: 'Message', message: { type: 'keepalive' } }, 0)), ['notification 5/1']);
  const g = established();
  t.same(sent(g.handle({ type: 'Message', message: peerOpen() }, 0)), ['notification 5/3']);
  const h = established();
  const a = h.handle({ type: 'MessageError', error: new BgpError(3, 1, 'bad list') }, 0);
  t.same(sent(a), ['notification 3/1']);
  t.same(kinds(a).slice(-2), ['disconnect', 'down']);
});

t.test('a NOTIFICATION from the peer closes without an answer; ManualStop sends Cease and stays down', async (t) => {
  const f = established();
  const a = f.handle({ type: 'Message', message: { type: 'notification', code: 6, subcode: 2, data: Buffer.alloc(0) } }, 0);
  t.same(sent(a), []);
  t.equal(f.state, 'Idle');
  const g = established();
  t.same(sent(g.handle({ type: 'ManualStop' }, 0)), ['notification 6/2']);
  t.equal(g.nextDeadline(), undefined, 'no restart after a manual stop');
});

t.test('collision detection keeps the connection opened by the higher BGP identifier (§6.8)', async (t) => {
  t.equal(resolveCollision('10.0.0.2', '10.0.0.1'), 'outgoing');
  t.equal(resolveCollision('10.0.0.1', '10.0.0.2'), 'incoming');
  t.equal(resolveCollision('9.255.255.255', '10.0.0.0'), 'incoming', 'compared as numbers, not strings');
  const f = established();
  t.same(sent(f.handle({ type: 'OpenCollisionDump' }, 0)), ['notification 6/7']);
  t.equal(f.state, 'Idle');
});
