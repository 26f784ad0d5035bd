// IPv4/IPv6 addresses: text <-> bytes <-> bigints, CIDRs and prefix arithmetic. The one parser and the one
// RFC 5952 formatter of the tree (Go's net.IP.String form, which also names the reference IPAM's files).
// Pure JS on purpose: node:net's isIP would load node:net into every plugin call's start-up.

export type Family = 4 | 6;

/** An address as a bigint. */
export interface Addr {
  family: Family;
  n: bigint;
}

/** A prefix as bigints. */
export interface Prefix {
  /** the address as written (may have host bits set) */
  ip: Addr;
  len: number;
}

/** A CIDR as text: the address in canonical form, as written (host bits kept). */
export interface Cidr { ip: string; prefix: number; family: Family }

export function bits(f: Family): number {
  return f === 4 ? 32 : 128;
}

// ---- parsing: the one strict parser (no leading zeros in a dotted quad, at most 4 hex digits a group)

function parseV4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255 || (p.length > 1 && p[0] === '0')) return undefined;
    out.push(Number(p));
  }
  return out;
}

/** The eight 16-bit groups of IPv6 text. */
function parseV6(s: string): number[] | undefined {
  // an embedded IPv4 tail ("::ffff:1.2.3.4") is rewritten as its two hex groups
  const lastColon = s.lastIndexOf(':');
  if (lastColon >= 0 && s.slice(lastColon + 1).includes('.')) {
    const v4 = parseV4(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    s = `${s.slice(0, lastColon + 1)}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const group = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = group(halves[0]);
  const rest = halves.length === 2 ? group(halves[1]) : [];
  if (!head || !rest) return undefined;
  const total = head.length + rest.length;
  if (halves.length === 2) return total > 7 ? undefined : [...head, ...new Array<number>(8 - total).fill(0), ...rest];
  return total === 8 ? head : undefined;
}

/** Text -> address; undefined when it is not one. */
export function parseIP(s: string): Addr | undefined {
  if (typeof s !== 'string') return undefined;
  if (s.includes(':')) {
    const g = parseV6(s);
    return g === undefined ? undefined : { family: 6, n: g.reduce((n, x) => (n << 16n) | BigInt(x), 0n) };
  }
  const b = parseV4(s);
  return b === undefined ? undefined : { family: 4, n: b.reduce((n, x) => (n << 8n) | BigInt(x), 0n) };
}

export function ipFamily(ip: string): Family {
  if (typeof ip === 'string' && !ip.includes(':') && parseV4(ip)) return 4;
  if (typeof ip === 'string' && ip.includes(':') && parseV6(ip)) return 6;
  throw new Error(`invalid IP address "${ip}"`);
}

/** Text -> 4 or 16 bytes (network order); throws on anything else. */
export function ipToBytes(ip: string): Buffer {
  if (typeof ip === 'string' && !ip.includes(':')) {
    const b = parseV4(ip);
    if (b) return Buffer.from(b);
  } else if (typeof ip === 'string') {
    const g = parseV6(ip);
    if (g) {
      const out = Buffer.alloc(16);
      g.forEach((x, i) => out.writeUInt16BE(x, i * 2));
      return out;
    }
  }
  throw new Error(`invalid IP address "${ip}"`);
}

// ---- formatting: the one RFC 5952 formatter

/** RFC 5952 §4.2: lower-case hex, the longest run (>= 2) of zero groups compressed, the first one on a tie. */
function formatGroups(g: number[]): string {
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** 4 or 16 bytes -> text. */
export function bytesToIp(b: Buffer): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push(b.readUInt16BE(i));
  return formatGroups(g);
}

export function formatIP(a: Addr): string {
  if (a.family === 4) return [24n, 16n, 8n, 0n].map((sh) => String((a.n >> sh) & 0xffn)).join('.');
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((a.n >> BigInt(i * 16)) & 0xffffn));
  return formatGroups(g);
}

// ---- prefixes as bigints (the IPAM's arithmetic)

/** "10.0.0.0/24" -> {ip, len}; undefined when malformed. */
export function parsePrefix(s: string): Prefix | undefined {
  if (typeof s !== 'string') return undefined;
  const i = s.indexOf('/');
  if (i < 0) return undefined;
  const ip = parseIP(s.slice(0, i));
  const lenText = s.slice(i + 1);
  if (!ip || !/^\d{1,3}$/.test(lenText)) return undefined;
  const len = Number(lenText);
  if (len > bits(ip.family)) return undefined;
  return { ip, len };
}

function hostMask(f: Family, len: number): bigint {
  return (1n << BigInt(bits(f) - len)) - 1n;
}

export function networkAddr(p: Prefix): Addr {
  return { family: p.ip.family, n: p.ip.n & ~hostMask(p.ip.family, p.len) };
}

/** The last address of the prefix (the IPv4 broadcast address). */
export function lastAddr(p: Prefix): Addr {
  return { family: p.ip.family, n: p.ip.n | hostMask(p.ip.family, p.len) };
}

export function contains(p: Prefix, a: Addr): boolean {
  return a.family === p.ip.family && (a.n & ~hostMask(a.family, p.len)) === networkAddr(p).n;
}

export function formatPrefix(p: Prefix): string {
  return `${formatIP(p.ip)}/${p.len}`;
}

/** An address or a CIDR as a [first, last] span. */
export function parseSpan(s: string): { family: Family; first: bigint; last: bigint } | undefined {
  if (typeof s !== 'string') return undefined;
  if (s.includes('/')) {
    const p = parsePrefix(s);
    return p ? { family: p.ip.family, first: networkAddr(p).n, last: lastAddr(p).n } : undefined;
  }
  const a = parseIP(s);
  return a ? { family: a.family, first: a.n, last: a.n } : undefined;
}

// ---- CIDRs as text (the netlink layer's form); these throw on bad input

export function parseCidr(s: string): Cidr {
  const slash = s.indexOf('/');
  if (slash < 0) throw new Error(`invalid CIDR "${s}": no prefix length`);
  const ip = s.slice(0, slash);
  const family = ipFamily(ip);
  const prefixText = s.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^\d+$/.test(prefixText) || prefix > bits(family)) throw new Error(`invalid CIDR "${s}": bad prefix length`);
  return { ip: bytesToIp(ipToBytes(ip)), prefix, family };
}

/** The bytes of a CIDR's address with the host bits cleared (set, with `ones`). */
function maskHost(c: Cidr, ones: boolean): Buffer {
  const b = ipToBytes(c.ip);
  for (let i = 0; i < b.length; i++) {
    const keep = (0xff << (8 - Math.max(0, Math.min(8, c.prefix - i * 8)))) & 0xff;
    b[i] = ones ? b[i] | (~keep & 0xff) : b[i] & keep;
  }
  return b;
}

/** The network address of a CIDR, e.g. 10.1.2.3/24 -> 10.1.2.0/24. */
export function networkOf(c: Cidr): Cidr {
  return { ip: bytesToIp(maskHost(c, false)), prefix: c.prefix, family: c.family };
}

export function cidrString(c: Cidr): string {
  return `${c.ip}/${c.prefix}`;
}

export function cidrContains(net: Cidr, ip: string): boolean {
  if (ipFamily(ip) !== net.family) return false;
  return networkOf({ ip, prefix: net.prefix, family: net.family }).ip === networkOf(net).ip;
}

/** IPv4 broadcast address of a CIDR (all host bits set). */
export function broadcastOf(c: Cidr): string {
  return bytesToIp(maskHost(c, true));
}

/** The first host address of a CIDR's network (10.1.2.0/24 -> 10.1.2.1), the conventional gateway. */
export function firstHost(cidr: string): string {
  const b = maskHost(parseCidr(cidr), false);
  b[b.length - 1] += 1;
  return bytesToIp(b);
}
