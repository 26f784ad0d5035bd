// A Map keyed by prefix text, stored under the RIB's compact key (./prefix-key.ts: a canonical IPv4 prefix
// is one small integer, anything else its text). FibSync's record of the kernel holds every installed
// route: at a million routes, string keys cost 32 bytes of heap each (bench/bgp-agent), an integer none.
// keys() gives back exactly the strings that were set (keyPrefix(prefixKey(s)) === s).
import { keyPrefix, prefixKey, type PrefixKey } from './prefix-key';

export class PrefixMap<V> {
  private readonly map = new Map<PrefixKey, V>();

  constructor(entries?: Iterable<readonly [string, V]>) {
    if (entries) for (const [p, v] of entries) this.set(p, v);
  }

  get size(): number { return this.map.size; }
  get(prefix: string): V | undefined { return this.map.get(prefixKey(prefix)); }
  has(prefix: string): boolean { return this.map.has(prefixKey(prefix)); }
  delete(prefix: string): boolean { return this.map.delete(prefixKey(prefix)); }

  set(prefix: string, value: V): this {
    this.map.set(prefixKey(prefix), value);
    return this;
  }

  // the same by key, for a caller that has it already (a BestChange carries the RIB's)
  getKey(key: PrefixKey): V | undefined { return this.map.get(key); }
  hasKey(key: PrefixKey): boolean { return this.map.has(key); }
  deleteKey(key: PrefixKey): boolean { return this.map.delete(key); }
  setKey(key: PrefixKey, value: V): this {
    this.map.set(key, value);
    return this;
  }

  rawKeys(): IterableIterator<PrefixKey> { return this.map.keys(); }

  *keys(): IterableIterator<string> {
    for (const k of this.map.keys()) yield keyPrefix(k);
  }

  *entries(): IterableIterator<[string, V]> {
    for (const [k, v] of this.map) yield [keyPrefix(k), v];
  }

  [Symbol.iterator](): IterableIterator<[string, V]> { return this.entries(); }
}
