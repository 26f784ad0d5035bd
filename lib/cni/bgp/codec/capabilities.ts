// OPEN optional parameter 2: capabilities (RFC 5492), with the ones berth understands decoded.
import { AFI, CAP, ERR, OPEN_SUB, type Afi } from './constants';
import { BgpError } from './errors';

export interface Family { afi: Afi; safi: number }

export interface GracefulRestartCap {
  /** R bit: the sender has just restarted (RFC 4724 §3) */
  restarting: boolean;
  /** N bit: the sender does graceful restart on NOTIFICATION too, Hard Reset excepted (RFC 8538 §2) */
  notification?: boolean;
  /** seconds the receiver should keep the sender's routes after the session drops (12 bits) */
  restartTime: number;
  families: Array<Family & { forwardingPreserved: boolean }>;
}

export interface Capabilities {
  multiprotocol: Family[];
  routeRefresh: boolean;
  /** RFC 7313: the sender brackets a re-advertisement with BoRR/EoRR */
  enhancedRouteRefresh?: boolean;
  /** RFC 6793: the sender's real AS number */
  fourOctetAs?: number;
  gracefulRestart?: GracefulRestartCap;
  /** capabilities berth does not know: kept so callers can log them; RFC 5492 §3 says ignore them */
  unknown: Array<{ code: number; value: Buffer }>;
}

export function emptyCapabilities(): Capabilities {
  return { multiprotocol: [], routeRefresh: false, unknown: [] };
}

function tlv(code: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([code, value.length]), value]);
}

export function encodeCapabilities(c: Capabilities): Buffer {
  const out: Buffer[] = [];
  for (const f of c.multiprotocol) {
    const v = Buffer.alloc(4);
    v.writeUInt16BE(f.afi, 0);
    v[3] = f.safi; // v[2] is reserved (RFC 4760 §8)
    out.push(tlv(CAP.MULTIPROTOCOL, v));
  }
  if (c.routeRefresh) out.push(tlv(CAP.ROUTE_REFRESH, Buffer.alloc(0)));
  if (c.enhancedRouteRefresh) out.push(tlv(CAP.ENHANCED_ROUTE_REFRESH, Buffer.alloc(0)));
  if (c.gracefulRestart) {
    const g = c.gracefulRestart;
    const v = Buffer.alloc(2 + 4 * g.families.length);
    v.writeUInt16BE((g.restarting ? 0x8000 : 0) | (g.notification ? 0x4000 : 0) | (g.restartTime & 0xfff), 0);
    g.families.forEach((f, i) => {
      v.writeUInt16BE(f.afi, 2 + 4 * i);
      v[4 + 4 * i] = f.safi;
      v[5 + 4 * i] = f.forwardingPreserved ? 0x80 : 0;
    });
    out.push(tlv(CAP.GRACEFUL_RESTART, v));
  }
  if (c.fourOctetAs !== undefined) {
    const v = Buffer.alloc(4);
    v.writeUInt32BE(c.fourOctetAs >>> 0, 0);
    out.push(tlv(CAP.FOUR_OCTET_AS, v));
  }
  for (const u of c.unknown) out.push(tlv(u.code, u.value));
  return Buffer.concat(out);
}

const bad = (why: string): BgpError => new BgpError(ERR.OPEN, OPEN_SUB.UNSPECIFIC, `capability: ${why}`);

/** Decodes the value of one capabilities optional parameter into `into` (a peer may send several). */
export function decodeCapabilities(buf: Buffer, into: Capabilities): void {
  let off = 0;
  while (off < buf.length) {
    if (off + 2 > buf.length) throw bad('truncated header');
    const code = buf[off];
    const len = buf[off + 1];
    const v = buf.subarray(off + 2, off + 2 + len);
    if (v.length !== len) throw bad(`code ${code} overruns the parameter`);
    off += 2 + len;
    switch (code) {
      case CAP.MULTIPROTOCOL:
        if (len !== 4) throw bad(`multiprotocol length ${len}`);
        into.multiprotocol.push({ afi: v.readUInt16BE(0) as Afi, safi: v[3] });
        break;
      case CAP.ROUTE_REFRESH:
        if (len !== 0) throw bad(`route refresh length ${len}`);
        into.routeRefresh = true;
        break;
      case CAP.ENHANCED_ROUTE_REFRESH:
        if (len !== 0) throw bad(`enhanced route refresh length ${len}`);
        into.enhancedRouteRefresh = true;
        break;
      case CAP.FOUR_OCTET_AS:
        if (len !== 4) throw bad(`4-octet AS length ${len}`);
        into.fourOctetAs = v.readUInt32BE(0);
        break;
      case CAP.GRACEFUL_RESTART: {
        if (len < 2 || (len - 2) % 4 !== 0) throw bad(`graceful restart length ${len}`);
        const w = v.readUInt16BE(0);
        const families: GracefulRestartCap['families'] = [];
        for (let i = 2; i < len; i += 4) {
          families.push({ afi: v.readUInt16BE(i) as Afi, safi: v[i + 2], forwardingPreserved: (v[i + 3] & 0x80) !== 0 });
        }
        into.gracefulRestart = { restarting: (w & 0x8000) !== 0, notification: (w & 0x4000) !== 0, restartTime: w & 0xfff, families };
        break;
      }
      default:
        into.unknown.push({ code, value: Buffer.from(v) });
    }
  }
}

export const FAMILY_IPV4: Family = { afi: AFI.IPV4, safi: 1 };
export const FAMILY_IPV6: Family = { afi: AFI.IPV6, safi: 1 };
