// IPv4/IPv6 addresses as bigints: parsing, formatting (Go's net.IP.String form, which names the
// reference's allocation files) and prefix arithmetic. Small and dependency-free on purpose.

export type Family = 4 | 6;

export interface Addr {
  family: Family;
  n: bigint;
}

export interface Prefix {
  /** the address as written (may have host bits set) */
  ip: Addr;
  len: number;
}

export function bits(f: Family): number {
  return f === 4 ? 32 : 128;
}

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255 || (p.length > 1 && p[0] === '0')) return undefined;
    n = (n << 8n) | BigInt(p);
  }
  return n;
}

function parseV6(s: string): bigint | undefined {
  // an embedded IPv4 tail ("::ffff:1.2.3.4") is rewritten as its two hex groups
  const lastColon = s.lastIndexOf(':');
  if (lastColon >= 0 && s.slice(lastColon + 1).includes('.')) {
    const v4 = parseV4(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    s = `${s.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
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
  let groups: number[];
  if (halves.length === 2) {
    if (total > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - total).fill(0), ...rest];
  } else {
    if (total !== 8) return undefined;
    groups = head;
  }
  return groups.reduce((n, g) => (n << 16n) | BigInt(g), 0n);
}

export function parseIP(s: string): Addr | undefined {
  if (typeof s !== 'string') return undefined;
  if (s.includes(':')) {
    const n = parseV6(s);
    return n === undefined ? undefined : { family: 6, n };
  }
  const n = parseV4(s);
  return n === undefined ? undefined : { family: 4, n };
}

export function formatIP(a: Addr): string {
  if (a.family === 4) {
    return [24n, 16n, 8n, 0n].map((sh) => String((a.n >> sh) & 0xffn)).join('.');
  }
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((a.n >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (>= 2) of zero groups, the first one on a tie
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    if (j > i) i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

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
