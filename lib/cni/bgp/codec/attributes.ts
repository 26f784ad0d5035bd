// Path attributes (RFC 4271 §4.3, §5) and their RFC 7606 error handling.
// The model always holds 4-octet AS numbers; AS4_PATH / AS4_AGGREGATOR exist only on the wire to
// 2-octet peers (RFC 6793 §4.2).
import { AFI, AS_TRANS, ATTR, ERR, FLAG, UPDATE_SUB, type Afi } from './constants';
import { BgpError, type AttrIssue } from './errors';
import { bytesToIp, ipToBytes } from '../../../util/ip-address';
import { decodeNlri, encodeNlri } from './nlri';

export const ORIGIN = { IGP: 0, EGP: 1, INCOMPLETE: 2 } as const;
export type Origin = 0 | 1 | 2;

export const SEG = { AS_SET: 1, AS_SEQUENCE: 2, CONFED_SEQUENCE: 3, CONFED_SET: 4 } as const;
export interface AsPathSegment { type: 1 | 2 | 3 | 4; asns: number[] }

export interface Aggregator { asn: number; address: string }

export interface MpReach {
  afi: Afi;
  safi: number;
  /** global next hop */
  nextHop: string;
  /** IPv6 only: the link-local next hop sent after the global one (RFC 2545 §3) */
  linkLocalNextHop?: string;
  nlri: string[];
}
export interface MpUnreach { afi: Afi; safi: number; withdrawn: string[] }

export interface RawAttribute { flags: number; type: number; value: Buffer }

export interface PathAttributes {
  origin?: Origin;
  asPath?: AsPathSegment[];
  nextHop?: string;
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: Aggregator;
  /** RFC 1997 communities as 32-bit numbers (ASN << 16 | value) */
  communities?: number[];
  originatorId?: string;
  clusterList?: string[];
  mpReach?: MpReach;
  mpUnreach?: MpUnreach;
  /** unrecognized optional transitive attributes, passed on with the Partial bit (RFC 4271 §5) */
  unknown?: RawAttribute[];
}

/** How the peer speaks: decides AS number width and which RFC 7606 rules apply. */
export interface CodecContext {
  /** both sides sent the 4-octet AS capability (RFC 6793) */
  as4: boolean;
  /** the peer is in another AS: LOCAL_PREF / ORIGINATOR_ID / CLUSTER_LIST from it are discarded */
  external?: boolean;
}

// ---------- encoding ----------

function attr(flags: number, type: number, value: Buffer): Buffer {
  const ext = value.length > 255;
  const head = Buffer.alloc(ext ? 4 : 3);
  head[0] = (flags & ~FLAG.EXTENDED_LENGTH) | (ext ? FLAG.EXTENDED_LENGTH : 0);
  head[1] = type;
  if (ext) head.writeUInt16BE(value.length, 2);
  else head[2] = value.length;
  return Buffer.concat([head, value]);
}

const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };

export function encodeAsPath(segs: readonly AsPathSegment[], width: 2 | 4, mapTrans = false): Buffer {
  const out: Buffer[] = [];
  for (const s of segs) {
    // a segment holds at most 255 ASes (one length octet): split longer ones
    for (let i = 0; i < s.asns.length || (i === 0 && s.asns.length === 0); i += 255) {
      const chunk = s.asns.slice(i, i + 255);
      const b = Buffer.alloc(2 + width * chunk.length);
      b[0] = s.type;
      b[1] = chunk.length;
      chunk.forEach((a, j) => {
        if (width === 4) b.writeUInt32BE(a >>> 0, 2 + 4 * j);
        else b.writeUInt16BE(mapTrans && a > 0xffff ? AS_TRANS : a & 0xffff, 2 + 2 * j);
      });
      out.push(b);
      if (s.asns.length === 0) break;
    }
  }
  return Buffer.concat(out);
}

function encodeMpReach(m: MpReach): Buffer {
  const nh = [ipToBytes(m.nextHop)];
  if (m.linkLocalNextHop) nh.push(ipToBytes(m.linkLocalNextHop));
  const nhBuf = Buffer.concat(nh);
  const head = Buffer.alloc(4);
  head.writeUInt16BE(m.afi, 0);
  head[2] = m.safi;
  head[3] = nhBuf.length;
  return Buffer.concat([head, nhBuf, Buffer.from([0]), encodeNlri(m.nlri)]);
}

function encodeMpUnreach(m: MpUnreach): Buffer {
  const head = Buffer.alloc(3);
  head.writeUInt16BE(m.afi, 0);
  head[2] = m.safi;
  return Buffer.concat([head, encodeNlri(m.withdrawn)]);
}

const WK = FLAG.TRANSITIVE; // well-known
const OPT = FLAG.OPTIONAL; // optional non-transitive
const OPT_T = FLAG.OPTIONAL | FLAG.TRANSITIVE; // optional transitive

export function encodeAttributes(a: PathAttributes, ctx: CodecContext): Buffer {
  const out: Buffer[] = [];
  // RFC 7606 §5.1: MP_REACH/MP_UNREACH first, so a receiver can find the NLRI even if later attributes break
  if (a.mpReach) out.push(attr(OPT, ATTR.MP_REACH_NLRI, encodeMpReach(a.mpReach)));
  if (a.mpUnreach) out.push(attr(OPT, ATTR.MP_UNREACH_NLRI, encodeMpUnreach(a.mpUnreach)));
  if (a.origin !== undefined) out.push(attr(WK, ATTR.ORIGIN, Buffer.from([a.origin])));
  let needAs4Path = false;
  if (a.asPath) {
    needAs4Path = !ctx.as4 && a.asPath.some((s) => s.asns.some((n) => n > 0xffff));
    out.push(attr(WK, ATTR.AS_PATH, encodeAsPath(a.asPath, ctx.as4 ? 4 : 2, true)));
  }
  if (a.nextHop) out.push(attr(WK, ATTR.NEXT_HOP, ipToBytes(a.nextHop)));
  if (a.med !== undefined) out.push(attr(OPT, ATTR.MED, u32(a.med)));
  if (a.localPref !== undefined) out.push(attr(WK, ATTR.LOCAL_PREF, u32(a.localPref)));
  if (a.atomicAggregate) out.push(attr(WK, ATTR.ATOMIC_AGGREGATE, Buffer.alloc(0)));
  let needAs4Agg = false;
  if (a.aggregator) {
    const g = a.aggregator;
    needAs4Agg = !ctx.as4 && g.asn > 0xffff;
    const v = Buffer.alloc(ctx.as4 ? 8 : 6);
    if (ctx.as4) v.writeUInt32BE(g.asn >>> 0, 0);
    else v.writeUInt16BE(g.asn > 0xffff ? AS_TRANS : g.asn, 0);
    ipToBytes(g.address).copy(v, ctx.as4 ? 4 : 2);
    out.push(attr(OPT_T, ATTR.AGGREGATOR, v));
  }
  if (a.communities) out.push(attr(OPT_T, ATTR.COMMUNITIES, Buffer.concat(a.communities.map(u32))));
  if (a.originatorId) out.push(attr(OPT, ATTR.ORIGINATOR_ID, ipToBytes(a.originatorId)));
  if (a.clusterList) out.push(attr(OPT, ATTR.CLUSTER_LIST, Buffer.concat(a.clusterList.map(ipToBytes))));
  // RFC 6793 §4.2.2: a NEW speaker tells an OLD one the real numbers in AS4_PATH / AS4_AGGREGATOR
  if (needAs4Path && a.asPath) {
    const noConfed = a.asPath.filter((s) => s.type === SEG.AS_SET || s.type === SEG.AS_SEQUENCE);
    out.push(attr(OPT_T, ATTR.AS4_PATH, encodeAsPath(noConfed, 4)));
  }
  if (needAs4Agg && a.aggregator) {
    const v = Buffer.alloc(8);
    v.writeUInt32BE(a.aggregator.asn >>> 0, 0);
    ipToBytes(a.aggregator.address).copy(v, 4);
    out.push(attr(OPT_T, ATTR.AS4_AGGREGATOR, v));
  }
  for (const u of a.unknown ?? []) out.push(attr(u.flags, u.type, u.value));
  return Buffer.concat(out);
}

// ---------- decoding ----------

export interface DecodedAttributes {
  attrs: PathAttributes;
  issues: AttrIssue[];
  /** RFC 7606 §4: the list itself was inconsistent; what was parsed before the problem is kept */
  listMalformed: boolean;
}

/** Expected Optional/Transitive bits of each known attribute (RFC 7606 §3c checks these). */
const EXPECTED_FLAGS: Record<number, number> = {
  [ATTR.ORIGIN]: WK, [ATTR.AS_PATH]: WK, [ATTR.NEXT_HOP]: WK, [ATTR.MED]: OPT, [ATTR.LOCAL_PREF]: WK,
  [ATTR.ATOMIC_AGGREGATE]: WK, [ATTR.AGGREGATOR]: OPT_T, [ATTR.COMMUNITIES]: OPT_T, [ATTR.ORIGINATOR_ID]: OPT,
  [ATTR.CLUSTER_LIST]: OPT, [ATTR.MP_REACH_NLRI]: OPT, [ATTR.MP_UNREACH_NLRI]: OPT, [ATTR.AS4_PATH]: OPT_T,
  [ATTR.AS4_AGGREGATOR]: OPT_T,
};

/**
 * RFC 7606 §7: the approach for a malformed instance of each attribute. MP_REACH/MP_UNREACH are absent:
 * their errors reset the session (§7.11), because the NLRI they carry can't be trusted.
 */
const MALFORMED_ACTION: Record<number, AttrIssue['action']> = {
  [ATTR.ORIGIN]: 'treat-as-withdraw', [ATTR.AS_PATH]: 'treat-as-withdraw', [ATTR.NEXT_HOP]: 'treat-as-withdraw',
  [ATTR.MED]: 'treat-as-withdraw', [ATTR.LOCAL_PREF]: 'treat-as-withdraw',
  [ATTR.ATOMIC_AGGREGATE]: 'attribute-discard', [ATTR.AGGREGATOR]: 'attribute-discard',
  [ATTR.COMMUNITIES]: 'treat-as-withdraw', [ATTR.ORIGINATOR_ID]: 'treat-as-withdraw',
  [ATTR.CLUSTER_LIST]: 'treat-as-withdraw', [ATTR.AS4_PATH]: 'attribute-discard',
  [ATTR.AS4_AGGREGATOR]: 'attribute-discard',
};

const SUBCODE_FOR: Record<number, number> = {
  [ATTR.ORIGIN]: UPDATE_SUB.INVALID_ORIGIN, [ATTR.AS_PATH]: UPDATE_SUB.MALFORMED_AS_PATH,
  [ATTR.NEXT_HOP]: UPDATE_SUB.INVALID_NEXT_HOP,
};

/** Thrown inside one attribute's decoder; the list decoder turns it into an AttrIssue. */
class Malformed extends Error {}

function decodeAsPath(v: Buffer, width: 2 | 4): AsPathSegment[] {
  const segs: AsPathSegment[] = [];
  let off = 0;
  while (off < v.length) {
    if (off + 2 > v.length) throw new Malformed('truncated segment header');
    const type = v[off];
    const n = v[off + 1];
    // RFC 7606 §7.2: unknown segment type, zero-length segment or overrun make AS_PATH malformed
    if (type < 1 || type > 4) throw new Malformed(`segment type ${type}`);
    if (n === 0) throw new Malformed('empty segment');
    if (off + 2 + n * width > v.length) throw new Malformed('segment overruns the attribute');
    const asns: number[] = [];
    for (let i = 0; i < n; i++) asns.push(width === 4 ? v.readUInt32BE(off + 2 + 4 * i) : v.readUInt16BE(off + 2 + 2 * i));
    segs.push({ type: type as AsPathSegment['type'], asns });
    off += 2 + n * width;
  }
  return segs;
}

/** RFC 4271 §9.1.2.2a: an AS_SET counts as one, confederation segments don't count (RFC 5065 §5.3). */
export function asPathLength(segs: readonly AsPathSegment[] | undefined): number {
  let n = 0;
  for (const s of segs ?? []) n += s.type === SEG.AS_SEQUENCE ? s.asns.length : s.type === SEG.AS_SET ? 1 : 0;
  return n;
}

/** RFC 6793 §4.2.3: rebuild the real path from AS_PATH (2-octet, AS_TRANS inside) and AS4_PATH. */
export function mergeAs4Path(asPath: AsPathSegment[], as4Path: AsPathSegment[]): AsPathSegment[] {
  const keep = asPathLength(asPath) - asPathLength(as4Path);
  if (keep < 0) return asPath; // AS4_PATH longer than AS_PATH: ignore it
  const head: AsPathSegment[] = [];
  let counted = 0;
  for (const s of asPath) {
    if (counted >= keep && s.type !== SEG.CONFED_SEQUENCE && s.type !== SEG.CONFED_SET) break;
    if (s.type === SEG.AS_SEQUENCE) {
      const take = s.asns.slice(0, keep - counted);
      if (take.length) head.push({ type: s.type, asns: take });
      counted += take.length;
    } else if (s.type === SEG.AS_SET) {
      head.push(s);
      counted += 1;
    } else head.push(s);
  }
  return [...head, ...as4Path];
}

function ipv4(v: Buffer): string {
  if (v.length !== 4) throw new Malformed(`length ${v.length}, want 4`);
  return bytesToIp(v);
}
function uint32(v: Buffer): number {
  if (v.length !== 4) throw new Malformed(`length ${v.length}, want 4`);
  return v.readUInt32BE(0);
}

const mpError = (why: string): BgpError => new BgpError(ERR.UPDATE, UPDATE_SUB.OPTIONAL_ATTR, why);

function decodeMpReach(v: Buffer): MpReach | undefined {
  if (v.length < 5) throw mpError(`MP_REACH_NLRI length ${v.length}`);
  const afi = v.readUInt16BE(0);
  const safi = v[2];
  const nhLen = v[3];
  if (4 + nhLen + 1 > v.length) throw mpError('MP_REACH_NLRI next hop overruns');
  if ((afi !== AFI.IPV4 && afi !== AFI.IPV6) || safi !== 1) return undefined; // not negotiated: ignored
  const nh = v.subarray(4, 4 + nhLen);
  let nextHop: string, linkLocalNextHop: string | undefined;
  if (afi === AFI.IPV4 && nhLen === 4) nextHop = bytesToIp(nh);
  else if (afi === AFI.IPV6 && (nhLen === 16 || nhLen === 32)) {
    nextHop = bytesToIp(nh.subarray(0, 16));
    if (nhLen === 32) linkLocalNextHop = bytesToIp(nh.subarray(16));
  } else throw mpError(`MP_REACH_NLRI next hop length ${nhLen} for AFI ${afi}`);
  const nlri = decodeNlri(afi, v.subarray(4 + nhLen + 1));
  if (!Array.isArray(nlri)) throw mpError(`MP_REACH_NLRI: ${nlri.malformed}`);
  return { afi, safi, nextHop, linkLocalNextHop, nlri };
}

function decodeMpUnreach(v: Buffer): MpUnreach | undefined {
  if (v.length < 3) throw mpError(`MP_UNREACH_NLRI length ${v.length}`);
  const afi = v.readUInt16BE(0);
  const safi = v[2];
  if ((afi !== AFI.IPV4 && afi !== AFI.IPV6) || safi !== 1) return undefined;
  const w = decodeNlri(afi, v.subarray(3));
  if (!Array.isArray(w)) throw mpError(`MP_UNREACH_NLRI: ${w.malformed}`);
  return { afi, safi, withdrawn: w };
}

/**
 * Decodes the path attribute field of an UPDATE. Throws BgpError for session-reset cases; everything
 * RFC 7606 lets the session survive becomes an issue.
 */
export function decodeAttributes(buf: Buffer, ctx: CodecContext): DecodedAttributes {
  const attrs: PathAttributes = {};
  const issues: AttrIssue[] = [];
  const seen = new Set<number>();
  let as4Path: AsPathSegment[] | undefined;
  let as4Agg: Aggregator | undefined;
  let listMalformed = false;
  let off = 0;
  while (off < buf.length) {
    const flags = buf[off];
    const headLen = flags & FLAG.EXTENDED_LENGTH ? 4 : 3;
    if (off + headLen > buf.length) {
      // RFC 7606 §4: fewer octets left than an attribute header
      listMalformed = true;
      issues.push({ action: 'treat-as-withdraw', type: 0, subcode: UPDATE_SUB.MALFORMED_ATTR_LIST, reason: 'truncated attribute header' });
      break;
    }
    const type = buf[off + 1];
    const len = headLen === 4 ? buf.readUInt16BE(off + 2) : buf[off + 2];
    if (off + headLen + len > buf.length) {
      // RFC 7606 §4: the last attribute overruns the Total Path Attribute Length
      listMalformed = true;
      issues.push({ action: 'treat-as-withdraw', type, subcode: UPDATE_SUB.ATTR_LENGTH, reason: `attribute ${type} overruns the list` });
      break;
    }
    const raw = buf.subarray(off, off + headLen + len);
    const v = buf.subarray(off + headLen, off + headLen + len);
    off += headLen + len;

    const isMp = type === ATTR.MP_REACH_NLRI || type === ATTR.MP_UNREACH_NLRI;
    if (seen.has(type)) {
      // RFC 7606 §3g: repeated MP attributes reset the session, other repeats are discarded
      if (isMp) throw new BgpError(ERR.UPDATE, UPDATE_SUB.MALFORMED_ATTR_LIST, `attribute ${type} repeated`);
      issues.push({ action: 'attribute-discard', type, subcode: UPDATE_SUB.MALFORMED_ATTR_LIST, reason: `attribute ${type} repeated` });
      continue;
    }
    seen.add(type);

    const expected = EXPECTED_FLAGS[type];
    if (expected === undefined) {
      // RFC 4271 §6.3: an unrecognized well-known attribute is fatal; unknown optional ones are
      // passed on (transitive, with Partial set) or quietly dropped (non-transitive)
      if (!(flags & FLAG.OPTIONAL)) throw new BgpError(ERR.UPDATE, UPDATE_SUB.UNRECOGNIZED_WELL_KNOWN, `unrecognized well-known attribute ${type}`, Buffer.from(raw));
      if (flags & FLAG.TRANSITIVE) (attrs.unknown ??= []).push({ flags: flags | FLAG.PARTIAL, type, value: Buffer.from(v) });
      continue;
    }
    if ((flags & (FLAG.OPTIONAL | FLAG.TRANSITIVE)) !== expected) {
      if (isMp) throw new BgpError(ERR.UPDATE, UPDATE_SUB.ATTR_FLAGS, `attribute ${type} flags 0x${flags.toString(16)}`, Buffer.from(raw));
      issues.push({ action: MALFORMED_ACTION[type], type, subcode: UPDATE_SUB.ATTR_FLAGS, reason: `flags 0x${flags.toString(16)}` });
      continue;
    }
    // RFC 7606 §7.5, §7.9, §7.10: attributes that have no meaning across an AS boundary
    if (ctx.external && (type === ATTR.LOCAL_PREF || type === ATTR.ORIGINATOR_ID || type === ATTR.CLUSTER_LIST)) {
      issues.push({ action: 'attribute-discard', type, subcode: UPDATE_SUB.OPTIONAL_ATTR, reason: 'from an external peer' });
      continue;
    }
    try {
      switch (type) {
        case ATTR.ORIGIN:
          if (v.length !== 1 || v[0] > 2) throw new Malformed(`value ${v.toString('hex')}`);
          attrs.origin = v[0] as Origin;
          break;
        case ATTR.AS_PATH:
          attrs.asPath = decodeAsPath(v, ctx.as4 ? 4 : 2);
          break;
        case ATTR.NEXT_HOP:
          attrs.nextHop = ipv4(v);
          break;
        case ATTR.MED:
          attrs.med = uint32(v);
          break;
        case ATTR.LOCAL_PREF:
          attrs.localPref = uint32(v);
          break;
        case ATTR.ATOMIC_AGGREGATE:
          if (v.length !== 0) throw new Malformed(`length ${v.length}, want 0`);
          attrs.atomicAggregate = true;
          break;
        case ATTR.AGGREGATOR: {
          const w = ctx.as4 ? 4 : 2;
          if (v.length !== w + 4) throw new Malformed(`length ${v.length}, want ${w + 4}`);
          attrs.aggregator = { asn: w === 4 ? v.readUInt32BE(0) : v.readUInt16BE(0), address: bytesToIp(v.subarray(w)) };
          break;
        }
        case ATTR.COMMUNITIES: {
          if (v.length === 0 || v.length % 4) throw new Malformed(`length ${v.length}, want a non-zero multiple of 4`);
          const c: number[] = [];
          for (let i = 0; i < v.length; i += 4) c.push(v.readUInt32BE(i));
          attrs.communities = c;
          break;
        }
        case ATTR.ORIGINATOR_ID:
          attrs.originatorId = ipv4(v);
          break;
        case ATTR.CLUSTER_LIST: {
          if (v.length === 0 || v.length % 4) throw new Malformed(`length ${v.length}, want a non-zero multiple of 4`);
          const ids: string[] = [];
          for (let i = 0; i < v.length; i += 4) ids.push(bytesToIp(v.subarray(i, i + 4)));
          attrs.clusterList = ids;
          break;
        }
        case ATTR.MP_REACH_NLRI: {
          const m = decodeMpReach(v);
          if (m) attrs.mpReach = m;
          break;
        }
        case ATTR.MP_UNREACH_NLRI: {
          const m = decodeMpUnreach(v);
          if (m) attrs.mpUnreach = m;
          break;
        }
        case ATTR.AS4_PATH:
          as4Path = decodeAsPath(v, 4);
          // RFC 6793 §6: confederation segments in AS4_PATH make it malformed
          if (as4Path.some((s) => s.type > 2)) { as4Path = undefined; throw new Malformed('confederation segment'); }
          break;
        case ATTR.AS4_AGGREGATOR:
          if (v.length !== 8) throw new Malformed(`length ${v.length}, want 8`);
          as4Agg = { asn: v.readUInt32BE(0), address: bytesToIp(v.subarray(4)) };
          break;
      }
    } catch (e) {
      if (!(e instanceof Malformed)) throw e;
      issues.push({
        action: MALFORMED_ACTION[type], type, subcode: SUBCODE_FOR[type] ?? UPDATE_SUB.ATTR_LENGTH, reason: `attribute ${type}: ${e.message}`,
      });
    }
  }
  // RFC 6793 §4.2.3/§6: a NEW speaker ignores AS4_* from NEW peers; from OLD peers they rebuild the path,
  // unless AGGREGATOR shows a 2-octet aggregator, which means AS4_* were attached before it
  if (!ctx.as4) {
    const aggIsOld = attrs.aggregator !== undefined && attrs.aggregator.asn !== AS_TRANS;
    if (as4Agg && attrs.aggregator && !aggIsOld) attrs.aggregator = as4Agg;
    if (as4Path && attrs.asPath && !aggIsOld) attrs.asPath = mergeAs4Path(attrs.asPath, as4Path);
  }
  return { attrs, issues, listMalformed };
}
