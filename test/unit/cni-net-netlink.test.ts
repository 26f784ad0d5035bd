// The rtnetlink codec and request matching, against a fake raw socket (no kernel, no root).
import t from 'tap';
import { EventEmitter } from 'node:events';
import { encodeAttrs, parseAttrs, str, u32 } from '../../lib/cni/net/nl/attrs';
import { NLA_F_NESTED, NLMSG, NLM_F, RTM } from '../../lib/cni/net/nl/constants';
import { Rtnl, NetlinkError, type NlSocket } from '../../lib/cni/net/nl/socket';
import { DATAGRAMS_PER_TURN } from '../../lib/cni/net/nl/route-socket';

t.test('attributes are padded to 4 bytes and nested ones carry NLA_F_NESTED', async (t) => {
  const b = encodeAttrs([{ type: 3, value: str('eth0') }, { type: 18, value: [{ type: 1, value: str('veth') }] }]);
  t.equal(b.length % 4, 0);
  t.equal(b.readUInt16LE(0), 4 + 5, 'length excludes padding');
  t.equal(b.readUInt16LE(12 + 2) & NLA_F_NESTED, NLA_F_NESTED, 'second attribute starts at the padded offset 12');
  const a = parseAttrs(b);
  t.equal(a.get(3)?.toString('utf8', 0, 4), 'eth0');
  t.equal(parseAttrs(a.get(18)!).get(1)?.toString('utf8', 0, 4), 'veth');
});

class FakeRaw extends EventEmitter {
  sent: Buffer[] = [];
  refs = 0;
  reply: (req: Buffer) => Buffer[] = () => [];
  ref(): void { this.refs = 1; }
  unref(): void { this.refs = 0; }
  close(): void { /* nothing */ }
  send(msg: Buffer[], _o: object, cb: (e?: Error) => void): void {
    const req = Buffer.concat(msg);
    this.sent.push(req);
    cb();
    setImmediate(() => { for (const r of this.reply(req)) this.emit('message', r); });
  }
}

function nlmsg(type: number, seq: number, body: Buffer, flags = 0): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(16 + body.length, 0);
  h.writeUInt16LE(type, 4);
  h.writeUInt16LE(flags, 6);
  h.writeUInt32LE(seq, 8);
  return Buffer.concat([h, body]);
}
const errBody = (errno: number): Buffer => { const b = Buffer.alloc(20); b.writeInt32LE(-errno, 0); return b; };

t.test('a request resolves on ACK, a dump collects parts until DONE, errors carry the errno name', async (t) => {
  const raw = new FakeRaw();
  const nl = new Rtnl(raw as unknown as NlSocket);
  raw.reply = (req) => {
    const seq = req.readUInt32LE(8);
    const flags = req.readUInt16LE(6);
    if ((flags & NLM_F.DUMP) === NLM_F.DUMP) {
      // two parts in one datagram, then DONE in another: the socket must keep collecting
      return [Buffer.concat([nlmsg(RTM.NEWLINK, seq, u32(1), NLM_F.MULTI), nlmsg(RTM.NEWLINK, seq, u32(2), NLM_F.MULTI)]), nlmsg(NLMSG.DONE, seq, u32(0))];
    }
    if (req.readUInt16LE(4) === RTM.DELLINK) return [nlmsg(NLMSG.ERROR, seq, errBody(19))];
    return [nlmsg(NLMSG.ERROR, seq, errBody(0))];
  };
  t.same(await nl.request('ack', RTM.NEWLINK, NLM_F.CREATE, Buffer.alloc(16)), []);
  t.equal(raw.sent[0].readUInt16LE(6) & NLM_F.ACK, NLM_F.ACK, 'non-dump requests ask for an ACK');
  const parts = await nl.request('dump', RTM.GETLINK, NLM_F.DUMP, Buffer.alloc(16));
  t.same(parts.map((p) => p.body.readUInt32LE(0)), [1, 2]);
  await t.rejects(nl.request('del', RTM.DELLINK, 0, Buffer.alloc(16)), new NetlinkError('del', 19));
  t.equal(raw.refs, 0, 'idle socket is unreferenced, so it never holds the process open');
});

/**
 * A socket like route-socket.ts: what the kernel answers at send is queued at once (receiveNow takes it),
 * `late` datagrams only arrive through the loop, and only while the socket is referenced.
 */
class InlineFake extends EventEmitter implements NlSocket {
  queued: Buffer[] = [];
  late: Buffer[] = [];
  refCalls = 0;
  referenced = false;
  answer: (req: Buffer) => { now: Buffer[]; later?: Buffer[] } = () => ({ now: [] });
  fail?: Error;
  send(msg: Uint8Array | Uint8Array[], _o: object, cb: (e?: Error) => void): void {
    const req = Buffer.concat(msg as Uint8Array[]);
    const a = this.answer(req);
    this.queued.push(...a.now);
    this.late.push(...(a.later ?? []));
    cb();
  }
  receiveNow(): Buffer | undefined {
    if (this.fail) throw this.fail;
    return this.queued.shift();
  }
  ref(): void {
    this.refCalls++;
    this.referenced = true;
    setImmediate(() => {
      // the loop reports what is queued, then what the kernel sends later
      for (const b of [...this.queued.splice(0), ...this.late.splice(0)]) if (this.referenced) this.emit('message', b);
    });
  }
  unref(): void { this.referenced = false; }
  close(): void { /* nothing */ }
}

const ack = (req: Buffer): Buffer => nlmsg(NLMSG.ERROR, req.readUInt32LE(8), errBody(0));

t.test('an answer queued at send is taken at once: no turn of the event loop, the socket never referenced', async (t) => {
  const sock = new InlineFake();
  const nl = new Rtnl(sock);
  sock.answer = (req) => ({ now: [nlmsg(RTM.NEWLINK, req.readUInt32LE(8), u32(7)), ack(req)] });
  let settled = false;
  const p = nl.request('get', RTM.GETLINK, 0, Buffer.alloc(16)).then((m) => { settled = true; return m; });
  await Promise.resolve(); await Promise.resolve();
  t.ok(settled, 'resolved within the microtasks of the call');
  t.same((await p).map((m) => m.body.readUInt32LE(0)), [7]);
  t.equal(sock.refCalls, 0, 'never waited for the loop');
});

t.test('nothing queued yet (EAGAIN): the request waits for the loop, then settles and unreferences the socket', async (t) => {
  const sock = new InlineFake();
  const nl = new Rtnl(sock);
  sock.answer = (req) => ({ now: [], later: [ack(req)] });
  t.same(await nl.request('set', RTM.SETLINK, 0, Buffer.alloc(16)), []);
  t.equal(sock.refCalls, 1, 'fell back to the event loop');
  t.equal(sock.referenced, false, 'unreferenced once answered');
});

t.test('a dump partly queued at send, the rest through the loop, is collected whole and in order', async (t) => {
  const sock = new InlineFake();
  const nl = new Rtnl(sock);
  sock.answer = (req) => {
    const seq = req.readUInt32LE(8);
    const part = (n: number): Buffer => nlmsg(RTM.NEWLINK, seq, u32(n), NLM_F.MULTI);
    return { now: [Buffer.concat([part(1), part(2)]), part(3)], later: [part(4), nlmsg(NLMSG.DONE, seq, u32(0))] };
  };
  const parts = await nl.request('dump', RTM.GETLINK, NLM_F.DUMP, Buffer.alloc(16));
  t.same(parts.map((p) => p.body.readUInt32LE(0)), [1, 2, 3, 4]);
  t.equal(sock.refCalls, 1);
});

t.test('a dump longer than DATAGRAMS_PER_TURN is taken in slices, the rest through the loop', async (t) => {
  const sock = new InlineFake();
  const nl = new Rtnl(sock);
  const count = DATAGRAMS_PER_TURN * 2 + 3;
  sock.answer = (req) => {
    const seq = req.readUInt32LE(8);
    const all = Array.from({ length: count }, (_, i) => nlmsg(RTM.NEWLINK, seq, u32(i), NLM_F.MULTI));
    return { now: [...all, nlmsg(NLMSG.DONE, seq, u32(0))] };
  };
  let left = -1;
  const p = nl.request('dump', RTM.GETLINK, NLM_F.DUMP, Buffer.alloc(16));
  left = sock.queued.length;
  t.equal(left, count + 1 - DATAGRAMS_PER_TURN, 'only one slice taken inside the call');
  t.same((await p).map((m) => m.body.readUInt32LE(0)), Array.from({ length: count }, (_, i) => i));
});

t.test('a receive error at send fails the request with it', async (t) => {
  const sock = new InlineFake();
  const nl = new Rtnl(sock);
  sock.answer = () => ({ now: [] });
  sock.fail = Object.assign(new Error('recvmsg ENOBUFS'), { code: 'ENOBUFS' });
  await t.rejects(nl.request('get', RTM.GETLINK, 0, Buffer.alloc(16)), { code: 'ENOBUFS' });
  t.equal(sock.refCalls, 0);
});
