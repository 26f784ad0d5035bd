// UPDATE message body (RFC 4271 §4.3) and End-of-RIB markers (RFC 4724 §2).
import { AFI, ERR, UPDATE_SUB, type Afi } from './constants';
import { BgpError, type AttrIssue } from './errors';
import { decodeAttributes, encodeAttributes, type CodecContext, type PathAttributes } from './attributes';
import { decodeNlri, encodeNlri } from './nlri';

export interface UpdateMessage {
  type: 'update';
  /** IPv4 prefixes in the Withdrawn Routes field (IPv6 ones travel in attrs.mpUnreach) */
  withdrawn: string[];
  attrs: PathAttributes;
  /** IPv4 prefixes in the NLRI field (IPv6 ones travel in attrs.mpReach) */
  nlri: string[];
  /** RFC 7606 findings of the decoder; absent on messages we build */
  issues?: AttrIssue[];
  /** RFC 7606 §2: every announced prefix of this UPDATE must be handled as withdrawn */
  treatAsWithdraw?: boolean;
}

export function encodeUpdateBody(m: UpdateMessage, ctx: CodecContext): Buffer {
  const w = encodeNlri(m.withdrawn);
  const a = encodeAttributes(m.attrs, ctx);
  const n = encodeNlri(m.nlri);
  const b = Buffer.alloc(4 + w.length + a.length + n.length);
  b.writeUInt16BE(w.length, 0);
  w.copy(b, 2);
  b.writeUInt16BE(a.length, 2 + w.length);
  a.copy(b, 4 + w.length);
  n.copy(b, 4 + w.length + a.length);
  return b;
}

const listError = (why: string): BgpError => new BgpError(ERR.UPDATE, UPDATE_SUB.MALFORMED_ATTR_LIST, why);

export function decodeUpdateBody(b: Buffer, ctx: CodecContext): UpdateMessage {
  // RFC 4271 §6.3 (kept by RFC 7606 §4): inconsistent field lengths reset the session
  if (b.length < 4) throw listError(`UPDATE body of ${b.length} octets`);
  const wLen = b.readUInt16BE(0);
  if (2 + wLen + 2 > b.length) throw listError(`withdrawn routes length ${wLen} overruns`);
  const aLen = b.readUInt16BE(2 + wLen);
  if (4 + wLen + aLen > b.length) throw listError(`path attribute length ${aLen} overruns`);
  const withdrawn = decodeNlri(AFI.IPV4, b.subarray(2, 2 + wLen));
  // RFC 7606 §5.3: NLRI we cannot parse can't be withdrawn either: session reset
  if (!Array.isArray(withdrawn)) throw new BgpError(ERR.UPDATE, UPDATE_SUB.INVALID_NETWORK, `withdrawn: ${withdrawn.malformed}`);
  const nlri = decodeNlri(AFI.IPV4, b.subarray(4 + wLen + aLen));
  if (!Array.isArray(nlri)) throw new BgpError(ERR.UPDATE, UPDATE_SUB.INVALID_NETWORK, `NLRI: ${nlri.malformed}`);
  const { attrs, issues, listMalformed } = decodeAttributes(b.subarray(4 + wLen, 4 + wLen + aLen), ctx);

  const announces = nlri.length > 0 || (attrs.mpReach?.nlri.length ?? 0) > 0;
  if (announces && !listMalformed) {
    // RFC 7606 §3d: a missing well-known mandatory attribute means treat-as-withdraw (RFC 4271 §6.3
    // said 3/3); NEXT_HOP is mandatory only for NLRI in the IPv4 field (RFC 4760 §3)
    const badTypes = new Set(issues.map((i) => i.type));
    const need: Array<[keyof PathAttributes, number]> = [['origin', 1], ['asPath', 2]];
    if (nlri.length > 0) need.push(['nextHop', 3]);
    for (const [field, type] of need) {
      if (attrs[field] === undefined && !badTypes.has(type)) {
        issues.push({ action: 'treat-as-withdraw', type, subcode: UPDATE_SUB.MISSING_WELL_KNOWN, reason: `missing ${field}` });
      }
    }
  }
  const m: UpdateMessage = { type: 'update', withdrawn, attrs, nlri };
  if (issues.length) {
    m.issues = issues;
    if (issues.some((i) => i.action === 'treat-as-withdraw')) m.treatAsWithdraw = true;
  }
  return m;
}

/** RFC 4724 §2: IPv4 End-of-RIB is an empty UPDATE; others carry an empty MP_UNREACH_NLRI. */
export function endOfRib(afi: Afi): UpdateMessage {
  if (afi === AFI.IPV4) return { type: 'update', withdrawn: [], attrs: {}, nlri: [] };
  return { type: 'update', withdrawn: [], attrs: { mpUnreach: { afi, safi: 1, withdrawn: [] } }, nlri: [] };
}

export function isEndOfRib(m: UpdateMessage): Afi | undefined {
  if (m.withdrawn.length || m.nlri.length || m.treatAsWithdraw) return undefined;
  const keys = Object.keys(m.attrs).filter((k) => (m.attrs as Record<string, unknown>)[k] !== undefined);
  if (keys.length === 0) return AFI.IPV4;
  if (keys.length === 1 && m.attrs.mpUnreach && m.attrs.mpUnreach.withdrawn.length === 0) return m.attrs.mpUnreach.afi;
  return undefined;
}
