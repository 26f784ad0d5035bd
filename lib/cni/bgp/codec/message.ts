// The 19-octet header (RFC 4271 §4.1) and the whole-message encode/decode, plus NOTIFICATION,
// KEEPALIVE and ROUTE-REFRESH, whose bodies are a few fixed fields.
import { ERR, HEADER_LEN, HEADER_SUB, MAX_MESSAGE_LEN, MSG, REFRESH, ROUTE_REFRESH_SUB, type Afi } from './constants';
import { BgpError } from './errors';
import type { CodecContext } from './attributes';
import { decodeOpenBody, encodeOpenBody, type OpenMessage } from './open';
import { decodeUpdateBody, encodeUpdateBody, type UpdateMessage } from './update';

export interface NotificationMessage { type: 'notification'; code: number; subcode: number; data: Buffer }
export interface KeepaliveMessage { type: 'keepalive' }
/** RFC 2918 §3; RFC 7313 §3 turns the reserved octet into a subtype (0 request, 1 BoRR, 2 EoRR) */
export interface RouteRefreshMessage { type: 'route-refresh'; afi: Afi; safi: number; subtype?: number }

export type BgpMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

export const DEFAULT_CONTEXT: CodecContext = { as4: true };

function frame(type: number, body: Buffer): Buffer {
  const len = HEADER_LEN + body.length;
  if (len > MAX_MESSAGE_LEN) throw new RangeError(`BGP message of ${len} octets exceeds ${MAX_MESSAGE_LEN}`);
  const b = Buffer.alloc(len, 0xff);
  b.writeUInt16BE(len, 16);
  b[18] = type;
  body.copy(b, HEADER_LEN);
  return b;
}

export function encodeMessage(m: BgpMessage, ctx: CodecContext = DEFAULT_CONTEXT): Buffer {
  switch (m.type) {
    case 'open': return frame(MSG.OPEN, encodeOpenBody(m));
    case 'update': return frame(MSG.UPDATE, encodeUpdateBody(m, ctx));
    case 'keepalive': return frame(MSG.KEEPALIVE, Buffer.alloc(0));
    case 'notification': return frame(MSG.NOTIFICATION, Buffer.concat([Buffer.from([m.code, m.subcode]), m.data]));
    case 'route-refresh': {
      const b = Buffer.alloc(4);
      b.writeUInt16BE(m.afi, 0);
      b[2] = m.subtype ?? 0;
      b[3] = m.safi;
      return frame(MSG.ROUTE_REFRESH, b);
    }
  }
}

const u16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(n & 0xffff); return b; };

/**
 * Checks a header and returns the message length, or undefined when fewer than 19 octets are at hand.
 * RFC 4271 §6.1: bad marker, length or type are Message Header Errors.
 */
export function checkHeader(buf: Buffer): number | undefined {
  if (buf.length < HEADER_LEN) return undefined;
  for (let i = 0; i < 16; i++) {
    if (buf[i] !== 0xff) throw new BgpError(ERR.HEADER, HEADER_SUB.CONN_NOT_SYNC, 'marker is not all ones');
  }
  const len = buf.readUInt16BE(16);
  const type = buf[18];
  if (type < MSG.OPEN || type > MSG.ROUTE_REFRESH) throw new BgpError(ERR.HEADER, HEADER_SUB.BAD_TYPE, `message type ${type}`, Buffer.from([type]));
  // a ROUTE-REFRESH long enough to carry its subtype is judged whole by decodeMessage (RFC 7313 §5)
  const min = { [MSG.OPEN]: 29, [MSG.UPDATE]: 23, [MSG.NOTIFICATION]: 21, [MSG.KEEPALIVE]: 19, [MSG.ROUTE_REFRESH]: 22 }[type]!;
  const bad = len < min || len > MAX_MESSAGE_LEN || (type === MSG.KEEPALIVE && len !== 19);
  if (bad) throw new BgpError(ERR.HEADER, HEADER_SUB.BAD_LENGTH, `length ${len} for type ${type}`, u16(len));
  return len;
}

/** Decodes exactly one whole message. Throws BgpError only. */
export function decodeMessage(buf: Buffer, ctx: CodecContext = DEFAULT_CONTEXT): BgpMessage {
  const len = checkHeader(buf);
  if (len === undefined || len !== buf.length) throw new BgpError(ERR.HEADER, HEADER_SUB.BAD_LENGTH, `have ${buf.length} octets`, u16(len ?? buf.length));
  const body = buf.subarray(HEADER_LEN);
  switch (buf[18]) {
    case MSG.OPEN: return decodeOpenBody(body);
    case MSG.UPDATE: return decodeUpdateBody(body, ctx);
    case MSG.KEEPALIVE: return { type: 'keepalive' };
    case MSG.NOTIFICATION: return { type: 'notification', code: body[0], subcode: body[1], data: Buffer.from(body.subarray(2)) };
    default: return decodeRouteRefreshBody(buf, body, len);
  }
}

/**
 * RFC 7313 §5: a BoRR or EoRR (subtype 1, 2) whose body is not 4 octets is a ROUTE-REFRESH Message Error,
 * Invalid Message Length, with the whole message as data; for a plain request (RFC 2918) it stays a
 * header length error.
 */
function decodeRouteRefreshBody(buf: Buffer, body: Buffer, len: number): RouteRefreshMessage {
  const subtype = body[2];
  if (body.length !== 4) {
    if (subtype === REFRESH.BEGIN || subtype === REFRESH.END) {
      throw new BgpError(ERR.ROUTE_REFRESH, ROUTE_REFRESH_SUB.INVALID_LENGTH, `ROUTE-REFRESH subtype ${subtype} with length ${len}`, Buffer.from(buf));
    }
    throw new BgpError(ERR.HEADER, HEADER_SUB.BAD_LENGTH, `length ${len} for type ${MSG.ROUTE_REFRESH}`, u16(len));
  }
  return { type: 'route-refresh', afi: body.readUInt16BE(0) as Afi, safi: body[3], subtype };
}

/** The NOTIFICATION that answers a decoding error. */
export function notificationFor(e: BgpError): NotificationMessage {
  return { type: 'notification', code: e.code, subcode: e.subcode, data: e.data };
}
