// OPEN message body (RFC 4271 §4.2) with the capabilities optional parameter (RFC 5492 §4).
import { AS_TRANS, ERR, OPEN_SUB } from './constants';
import { BgpError } from './errors';
import { bytesToIp, ipToBytes } from '../../../util/ip-address';
import { decodeCapabilities, emptyCapabilities, encodeCapabilities, type Capabilities } from './capabilities';

export interface OpenMessage {
  type: 'open';
  version: number;
  /** the speaker's AS: from the 4-octet AS capability when present, else the 2-octet My AS field */
  asn: number;
  /** seconds; 0 or >= 3 */
  holdTime: number;
  routerId: string;
  capabilities: Capabilities;
}

const OPT_CAPABILITIES = 2;

export function encodeOpenBody(m: OpenMessage): Buffer {
  const caps = encodeCapabilities(m.capabilities);
  // RFC 5492 §4: all capabilities may go in one parameter; split when over 255 octets
  const params: Buffer[] = [];
  for (let off = 0; off < caps.length; ) {
    let end = off;
    while (end < caps.length && end + 2 + caps[end + 1] - off <= 255) end += 2 + caps[end + 1];
    params.push(Buffer.from([OPT_CAPABILITIES, end - off]), caps.subarray(off, end));
    off = end;
  }
  const opt = Buffer.concat(params);
  const head = Buffer.alloc(10);
  head[0] = m.version;
  // RFC 6793 §4.1: an AS that does not fit in 2 octets is sent as AS_TRANS
  head.writeUInt16BE(m.asn > 0xffff ? AS_TRANS : m.asn, 1);
  head.writeUInt16BE(m.holdTime, 3);
  ipToBytes(m.routerId).copy(head, 5);
  head[9] = opt.length;
  return Buffer.concat([head, opt]);
}

export function decodeOpenBody(b: Buffer): OpenMessage {
  if (b.length < 10) throw new BgpError(ERR.HEADER, 2, `OPEN too short (${b.length + 19})`, u16(b.length + 19));
  const version = b[0];
  // RFC 4271 §6.2: data is the largest supported version number
  if (version !== 4) throw new BgpError(ERR.OPEN, OPEN_SUB.UNSUPPORTED_VERSION, `version ${version}`, u16(4));
  const myAs = b.readUInt16BE(1);
  const holdTime = b.readUInt16BE(3);
  if (holdTime === 1 || holdTime === 2) throw new BgpError(ERR.OPEN, OPEN_SUB.UNACCEPTABLE_HOLD_TIME, `hold time ${holdTime}`);
  const id = b.readUInt32BE(5);
  if (id === 0) throw new BgpError(ERR.OPEN, OPEN_SUB.BAD_BGP_ID, 'BGP identifier 0.0.0.0');
  const optLen = b[9];
  if (10 + optLen !== b.length) throw new BgpError(ERR.OPEN, OPEN_SUB.UNSPECIFIC, `optional parameters length ${optLen} != ${b.length - 10}`);
  const capabilities = emptyCapabilities();
  for (let off = 10; off < b.length; ) {
    if (off + 2 > b.length) throw new BgpError(ERR.OPEN, OPEN_SUB.UNSPECIFIC, 'truncated optional parameter');
    const type = b[off];
    const len = b[off + 1];
    if (off + 2 + len > b.length) throw new BgpError(ERR.OPEN, OPEN_SUB.UNSPECIFIC, 'optional parameter overruns');
    if (type !== OPT_CAPABILITIES) {
      throw new BgpError(ERR.OPEN, OPEN_SUB.UNSUPPORTED_OPT_PARAM, `optional parameter ${type}`);
    }
    decodeCapabilities(b.subarray(off + 2, off + 2 + len), capabilities);
    off += 2 + len;
  }
  const asn = capabilities.fourOctetAs ?? myAs;
  if (asn === 0) throw new BgpError(ERR.OPEN, OPEN_SUB.BAD_PEER_AS, 'AS 0', u16(myAs));
  return { type: 'open', version, asn, holdTime, routerId: bytesToIp(b.subarray(5, 9)), capabilities };
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n & 0xffff);
  return b;
}
