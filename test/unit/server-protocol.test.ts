// lib/server/protocol.ts against its own description: the byte layout, a round trip, and bad payloads named.
import t from 'tap';
import { decodeFrame, decodeHeader, decodePayload, encodeRequest, exitFrame, goColdFrame, HEADER_BYTES, MAGIC, ProtocolError, type Request } from '../../lib/server/protocol';

const req: Request = { buildId: 'b1', program: 'berth', cwd: '/x', argv: ['state', 'é'], env: ['A=1'], targetFds: [0, 1, 2] };

t.test('the request layout is the one described, byte for byte', async (t) => {
  const b = encodeRequest(req);
  t.equal(b.readUInt32LE(0), MAGIC);
  t.equal(b.subarray(0, 4).toString('latin1'), 'BRT1', 'magic reads BRT1 on the wire');
  t.equal(b.readUInt32LE(4), 1, 'version 1');
  t.equal(b.readUInt32LE(8), b.length - HEADER_BYTES, 'payload length');
  const want = Buffer.concat([
    Buffer.from([2, 0, 0, 0]), Buffer.from('b1'), Buffer.from([5, 0, 0, 0]), Buffer.from('berth'), Buffer.from([2, 0, 0, 0]), Buffer.from('/x'),
    Buffer.from([2, 0, 0, 0]), Buffer.from([5, 0, 0, 0]), Buffer.from('state'), Buffer.from([2, 0, 0, 0]), Buffer.from('é'),
    Buffer.from([1, 0, 0, 0]), Buffer.from([3, 0, 0, 0]), Buffer.from('A=1'),
    Buffer.from([3, 0, 0, 0]), Buffer.from([0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0]),
  ]);
  t.same(b.subarray(HEADER_BYTES), want);
  t.same(decodePayload(b.subarray(HEADER_BYTES)), req, 'round trip');
  t.same(decodeHeader(b), { magic: MAGIC, version: 1, length: want.length });
});

t.test('a bad payload names the field', async (t) => {
  const p = encodeRequest(req).subarray(HEADER_BYTES);
  t.throws(() => decodePayload(p.subarray(0, 3)), new ProtocolError('build-id length: payload ends early'));
  t.throws(() => decodePayload(p.subarray(0, 5)), /build-id: 2 bytes past the payload's end/);
  t.throws(() => decodePayload(Buffer.concat([p, Buffer.from([0])])), /1 bytes after the fd list/);
  const huge = Buffer.from(p);
  huge.writeUInt32LE(0xffffffff, 4 + 2 + 4 + 5 + 4 + 2); // argc
  t.throws(() => decodePayload(huge), /argv count: 4294967295 does not fit/);
});

t.test('reply frames', async (t) => {
  t.same(exitFrame(-3), Buffer.from([1, 0, 0, 0, 4, 0, 0, 0, 0xfd, 0xff, 0xff, 0xff]));
  t.same(decodeFrame(exitFrame(7)), { reply: { type: 'exit', status: 7 }, used: 12 });
  const g = goColdFrame('busy');
  t.same(g, Buffer.from([2, 0, 0, 0, 8, 0, 0, 0, 4, 0, 0, 0, ...Buffer.from('busy')]));
  t.same(decodeFrame(g)?.reply, { type: 'go-cold', reason: 'busy' });
  t.equal(decodeFrame(g.subarray(0, 10)), undefined, 'incomplete: wait for more');
  t.throws(() => decodeFrame(Buffer.from([9, 0, 0, 0, 0, 0, 0, 0])), /frame type 9: unknown/);
});
