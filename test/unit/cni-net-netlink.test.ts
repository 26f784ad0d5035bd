// The rtnetlink codec and request matching, against a fake raw socket (no kernel, no root).
import t from 'tap';
import { EventEmitter } from 'node:events';
import { encodeAttrs, parseAttrs, str, u32 } from '../../lib/cni/net/nl/attrs';
import { NLA_F_NESTED, NLMSG, NLM_F, RTM } from '../../lib/cni/net/nl/constants';
import { Rtnl, NetlinkError } from '../../lib/cni/net/nl/socket';
import type { RawNetlinkSocket } from 'netlink/dist/raw';

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
  const nl = new Rtnl(raw as unknown as RawNetlinkSocket);
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
