// A Map keyed by prefix text ("32.1.2.0/24") that keeps canonical IPv4 prefixes as small integers, one
// Map per prefix length keyed by the address as an int32. FibSync's record of the kernel holds every
// installed route: at a million routes, string keys cost 32 bytes of heap each (bench/bgp-agent), an int32
// key none. Anything else (IPv6, text that is not the canonical form) is kept under its text, so keys()
// gives back exactly the strings that were set.

/** the prefix length parseV4 found; -1 when the text is not a canonical IPv4 prefix */
let parsedLen = -1;

/**
 * "a.b.c.d/len" in canonical form (decimal octets without leading zeros, no host bits) as an int32
 * address, its length in parsedLen; otherwise parsedLen = -1. Hand-written: it runs per route.
 */
function parseV4(p: string): number {
  parsedLen = -1;
  let addr = 0;
  let i = 0;
  for (let octet = 0; octet < 4; octet++) {
    const start = i;
    let v = 0;
    while (i < p.length) {
      const c = p.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
      i++;
    }
    const digits = i - start;
    if (digits === 0 || digits > 3 || v > 255 || (digits > 1 && p.charCodeAt(start) === 48)) return 0;
    addr = (addr << 8) | v;
    if (p.charCodeAt(i++) !== (octet < 3 ? 46 /* . */ : 47 /* / */)) return 0;
  }
  const start = i;
  let len = 0;
  while (i < p.length) {
    const c = p.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return 0;
    len = len * 10 + c;
    i++;
  }
  const digits = i - start;
  if (digits === 0 || digits > 2 || len > 32 || (digits > 1 && p.charCodeAt(start) === 48)) return 0;
  if (len < 32 && (addr & (0xffffffff >>> len)) !== 0) return 0; // host bits: not canonical
  parsedLen = len;
  return addr;
}

const formatV4 = (addr: number, len: number): string => `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}/${len}`;

export class PrefixMap<V> {
  private readonly v4: Map<number, V>[] = Array.from({ length: 33 }, () => new Map<number, V>());
  private readonly other = new Map<string, V>();

  constructor(entries?: Iterable<readonly [string, V]>) {
    if (entries) for (const [p, v] of entries) this.set(p, v);
  }

  get size(): number {
    let n = this.other.size;
    for (const m of this.v4) n += m.size;
    return n;
  }

  get(prefix: string): V | undefined {
    const a = parseV4(prefix);
    return parsedLen < 0 ? this.other.get(prefix) : this.v4[parsedLen].get(a);
  }

  has(prefix: string): boolean {
    const a = parseV4(prefix);
    return parsedLen < 0 ? this.other.has(prefix) : this.v4[parsedLen].has(a);
  }

  set(prefix: string, value: V): this {
    const a = parseV4(prefix);
    if (parsedLen < 0) this.other.set(prefix, value);
    else this.v4[parsedLen].set(a, value);
    return this;
  }

  delete(prefix: string): boolean {
    const a = parseV4(prefix);
    return parsedLen < 0 ? this.other.delete(prefix) : this.v4[parsedLen].delete(a);
  }

  /** the prefixes, as the text they were set with (an IPv4 one formatted afresh: the same text) */
  *keys(): IterableIterator<string> {
    for (let len = 0; len <= 32; len++) for (const a of this.v4[len].keys()) yield formatV4(a, len);
    yield* this.other.keys();
  }

  *entries(): IterableIterator<[string, V]> {
    for (let len = 0; len <= 32; len++) for (const [a, v] of this.v4[len]) yield [formatV4(a, len), v];
    yield* this.other.entries();
  }

  [Symbol.iterator](): IterableIterator<[string, V]> { return this.entries(); }
}
