// FIB sync: best BGP routes into the kernel's main table through rtnetlink, tagged with protocol 186
// ("bgp" in iproute2's rt_protos), in batches. Routes carrying another protocol id are never touched:
// deletes name protocol 186 (the kernel matches it) and installs skip prefixes another protocol owns.
// A best route with a multipath set (ECMP) is one kernel route with RTA_MULTIPATH next hops, written with
// NLM_F_REPLACE like any other, so a change of the set swaps the whole route at once.
import { AFI } from './codec/constants';
import { formatPrefix, parsePrefix } from './codec/prefix';
import { ipToBytes } from '../../util/ip-address';
import type { BestChange } from './rib';
import type { Route } from './route';
import { fibNextHops, isMultipath, joinNextHops, splitNextHops } from './fib-nexthops';
import { NLM_F, RTA, RTM } from '../net/nl/constants';
import { NetlinkError, Rtnl } from '../net/nl/socket';
import { NlBatch, NlWriter } from '../net/nl/writer';
import { eachRoute, type RouteEntry } from '../net/route';
import { PrefixMap } from './prefix-map';
import { keyIPv4, keyPrefix, prefixKey, type PrefixKey } from './prefix-key';

export const RTPROT_BGP = 186;
const RT_TABLE_MAIN = 254;

/** `gateway`: one next hop, or an ECMP set as fib-nexthops.ts writes it ("10.0.0.1,10.0.0.2") */
export interface FibEntry { prefix: string; gateway: string }

/** Where a streamed dump (FibBackend.scan) puts each route as it arrives. */
export interface FibScan {
  /** a route of ours (protocol 186); `shape`: its device and onlink flag, for a backend that checks them */
  ours(prefix: string, gateway: string, shape?: Pick<RouteEntry, 'dev' | 'onlink'>): void;
  /** a prefix another protocol holds */
  other(prefix: string): void;
}

/** The kernel side, behind an interface so the batching logic is unit-testable without root. */
export interface FibBackend {
  /** routes of the table: ours (protocol 186) and, separately, prefixes held by any other protocol */
  list(): Promise<{ ours: FibEntry[]; others: Set<string> }>;
  /**
   * Optional streaming form of list: each route goes to `into` as its part of the dump arrives, so a
   * million-route table is never held as one list. FibSync uses it when it is there.
   */
  scan?(into: FibScan): Promise<void>;
  /** `exclusive`: the prefix is not ours, so create only; fail (EEXIST) rather than replace a route there */
  replace(e: FibEntry, exclusive?: boolean): Promise<void>;
  remove(prefix: string): Promise<void>;
  /**
   * Optional bulk form of replace/remove: applies every op and resolves with one result per op (undefined =
   * done, else that op's error), so one failure costs only its own route. Without it FibSync calls
   * replace/remove one at a time.
   */
  applyBatch?(ops: readonly FibOp[]): Promise<(Error | undefined)[]>;
  close(): void;
}

/** `key`: the prefix's key (prefix-key.ts) when the caller has it, so a backend can encode without parsing the text */
export type FibOp = { op: 'replace'; entry: FibEntry; exclusive?: boolean; key?: PrefixKey } | { op: 'remove'; prefix: string; key?: PrefixKey };

export interface FibError { prefix: string; op: 'replace' | 'remove'; message: string }

/** the ops FibSync makes: each knows its key, to record the outcome without scanning the text */
type KeyedOp = FibOp & { key: PrefixKey };

/** the kernel as FibSync believes it: our routes (prefix -> gateway) and prefixes other protocols hold, by prefix key */
interface Known { ours: PrefixMap<string>; others: Set<PrefixKey> }

const isIPv6Key = (key: PrefixKey): boolean => typeof key === 'string' && key.includes(':');

const OWNED_BY_OTHERS = 'prefix owned by another routing protocol: left alone';

/**
 * Whole-table loops (reconcile, removeAll, building a batch) give the event loop a turn this often, so the
 * agent's lease timer, keepalives and control socket keep answering under a million-route table.
 */
export const YIELD_EVERY = 4096;
const yieldNow = (): Promise<void> => new Promise((r) => setImmediate(r));

/** kernel writes per backend call: a slice's messages are built, written and dropped before the next's */
const APPLY_SLICE = 4096;

/**
 * Changes queued behind a running batch beyond which the speaker stops reading UPDATEs (backpressure()).
 * Without a bound a full-table load outruns the kernel and the queue holds most of the table (bench/bgp-agent:
 * 240 MB peak against BIRD's 94); with it the next batch is ready when the running one ends.
 */
export const QUEUE_HIGH_WATER = 2 * APPLY_SLICE;
/** the longest backpressure holds the speaker: its peers' KEEPALIVEs are not read meanwhile */
const BACKPRESSURE_MAX_MS = 1000;

/**
 * Collects Loc-RIB changes and applies them in batches. The kernel is dumped once (and again on reconcile
 * and removeAll); after that FibSync trusts its own record of what it wrote, so a batch costs only its
 * writes. Batches stream: once `batchSize` changes are queued a batch starts at once, and whatever arrives
 * while it is in flight forms the next one, so a full table load overlaps with its kernel writes; the
 * producer is held (backpressure()) once the next one is full.
 */
export class FibSync {
  /**
   * prefix key -> wanted gateway (undefined = remove); later changes of a prefix overwrite earlier ones.
   * Keyed by the RIB's number, not the text: while the kernel lags a full-table load this holds hundreds
   * of thousands of prefixes, and a string each would outlive the young generation (bench/bgp-agent).
   */
  private queue = new Map<PrefixKey, string | undefined>();
  /** the kernel as last dumped plus our writes since */
  private known?: Known;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** while a reconcile runs: prefixes update() was told about since its snapshot of `best` was taken */
  private touched?: Set<PrefixKey>;
  readonly errors: FibError[] = [];
  batches = 0;

  constructor(private readonly backend: FibBackend, private readonly batchMs = 50, private readonly batchSize = 1024) {}

  /** how many routes FibSync believes it has in the kernel (0 before the first dump; during one, the count before it) */
  get installed(): number { return this.known?.ours.size ?? this.installedBeforeDump; }
  private installedBeforeDump = 0;

  private changes = 0;
  /** how many route changes update() has been given so far: a caller compares two readings to see churn */
  get changesSeen(): number { return this.changes; }

  /** nothing queued, nothing being written */
  get idle(): boolean { return this.queue.size === 0 && !this.running; }

  /**
   * While a batch is in the kernel and QUEUE_HIGH_WATER changes wait behind it: a promise that resolves
   * when that batch is done (at most BACKPRESSURE_MAX_MS), for the producer to wait on; else undefined.
   */
  backpressure(): Promise<void> | undefined {
    const running = this.running;
    if (!running || this.queue.size < QUEUE_HIGH_WATER) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const cap = new Promise<void>((res) => { timer = setTimeout(res, BACKPRESSURE_MAX_MS); });
    // a failed batch is flush()'s to report: the producer only waits
    return Promise.race([running.catch(() => undefined), cap]).then(() => clearTimeout(timer));
  }

  /** Feed it the speaker's onBestChange. Local routes (our own blocks) are not installed. */
  update(changes: readonly BestChange[]): void {
    this.changes += changes.length;
    for (const c of changes) {
      const key = c.key ?? prefixKey(c.prefix);
      this.queue.set(key, c.best && fibNextHops(c.best));
      this.touched?.add(key);
    }
    // a full batch goes now (a running one takes the queue when it ends); a trickle waits batchMs
    if (this.queue.size >= this.batchSize) { if (!this.running) this.flushInBackground(); }
    else if (!this.timer && this.queue.size) {
      this.timer = setTimeout(() => { this.timer = undefined; this.flushInBackground(); }, this.batchMs);
    }
  }

  /** A flush nobody awaits: a failed kernel dump is recorded; its batch stays queued for the next flush. */
  private flushInBackground(): void {
    this.flush().catch((e: Error) => { this.errors.push({ prefix: '', op: 'replace', message: `kernel dump failed: ${e.message}` }); });
  }

  /** Applies everything queued, including what arrives meanwhile; resolves when the kernel has answered. */
  async flush(): Promise<void> {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    for (;;) {
      while (this.running) await this.running;
      if (this.queue.size === 0) return;
      const batch = this.queue;
      this.queue = new Map();
      const run = this.apply(batch);
      this.running = run;
      try { await run; } finally { if (this.running === run) this.running = undefined; }
    }
  }

  /**
   * Makes the kernel's protocol-186 routes exactly `best`, from a fresh dump: at start-up (restarting changes
   * nothing right) and now and then, so routes removed or changed behind our back come back. Returns how
   * many prefixes needed a write. With `family`, only that family's routes are compared (the other one's
   * selection may still be deferred after a restart, its routes in the kernel kept as they are).
   * `lookup`: the best route of one prefix in the same Loc-RIB `best` walks (the speaker's bestRoute).
   * With it each kernel route is compared as its part of the dump arrives and nothing copies the Loc-RIB;
   * without it (a plain list of routes) `best` is indexed first.
   */
  async reconcile(best: Iterable<Route>, family?: 4 | 6, lookup?: (prefix: string) => Route | undefined): Promise<number> {
    // the loops below yield, so `best` (a live iterator over the Loc-RIB: no copy of a 1M-route table) may
    // run while routes change: a prefix changed meanwhile is update()'s to write (queued or already
    // written), so reconcile leaves it alone rather than undo a newer change
    const touched = (this.touched = new Set());
    try { return await this.reconcileFrom(best, touched, family, lookup); } finally { if (this.touched === touched) this.touched = undefined; }
  }

  private async reconcileFrom(best: Iterable<Route>, touched: Set<PrefixKey>, family: 4 | 6 | undefined, lookup?: (prefix: string) => Route | undefined): Promise<number> {
    const afi = family === undefined ? undefined : family === 4 ? AFI.IPV4 : AFI.IPV6;
    const mine = (key: PrefixKey): boolean => afi === undefined || isIPv6Key(key) === (afi === AFI.IPV6);
    const wanted = (r: Route | undefined): string | undefined => (r && (afi === undefined || r.afi === afi) ? fibNextHops(r) || undefined : undefined);
    let n = 0;
    if (!lookup) {
      const index = new PrefixMap<Route>();
      for (const r of best) {
        index.set(r.prefix, r);
        if (++n % YIELD_EVERY === 0) await yieldNow();
      }
      lookup = (p) => index.get(p);
    }
    const find = lookup;
    // what to write, settled at the end: another protocol's route for a prefix may come later in the dump
    // than ours, and a prefix may be touched meanwhile
    const fixes = new Map<PrefixKey, string | undefined>();
    // the kernel against the Loc-RIB, route by route as the dump streams: ours that are stale or wrong
    const k = await this.load((p, gw, key) => {
      if (touched.has(key) || !mine(key)) return;
      const w = wanted(find(p));
      if (w !== gw) fixes.set(key, w);
    });
    // the Loc-RIB against the kernel: wanted routes it lacks
    for (const r of best) {
      const gw = wanted(r);
      if (gw) {
        const key = prefixKey(r.prefix);
        if (!k.ours.hasKey(key) && !touched.has(key)) fixes.set(key, gw);
      }
      if (++n % YIELD_EVERY === 0) await yieldNow();
    }
    let count = 0;
    for (const [key, gw] of fixes) {
      if (touched.has(key) || (gw !== undefined && k.others.has(key))) continue;
      this.queue.set(key, gw);
      count++;
    }
    await this.flush();
    return count;
  }

  /** Dumps the kernel now (later batches start from it): how many routes of ours it holds, e.g. left by our previous run. */
  async loadKernel(): Promise<number> {
    return (await this.load()).ours.size;
  }

  /** Removes every route we installed (after the graceful-restart window, on shutdown). */
  async removeAll(): Promise<void> {
    const k = await this.load();
    let n = 0;
    for (const key of k.ours.rawKeys()) {
      this.queue.set(key, undefined);
      if (++n % YIELD_EVERY === 0) await yieldNow();
    }
    await this.flush();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.backend.close();
  }

  /**
   * Dumps the kernel afresh, after a running batch so the dump is not older than our writes; batches wait
   * for it (they would write against a record being rebuilt). `each`: sees every route of ours as it arrives.
   */
  private async load(each?: (prefix: string, gateway: string, key: PrefixKey) => void): Promise<Known> {
    while (this.running) await this.running;
    // marked running before the dump starts: a backend may hand over routes (and so let update() run) at once
    let done!: () => void;
    const settled = new Promise<void>((res) => { done = res; });
    this.running = settled;
    try { return await this.dump(each); } finally { done(); if (this.running === settled) this.running = undefined; }
  }

  /**
   * With a streaming backend the routes come a datagram at a time (a few hundred), each handled as it
   * is read: the event loop turns between the socket's reads (the netlink package reads at most 32
   * datagrams per turn), which bounds a stall as YIELD_EVERY does in the loops.
   */
  private async dump(each?: (prefix: string, gateway: string, key: PrefixKey) => void): Promise<Known> {
    // the previous record can go as the new one grows (no batch runs meanwhile: see load)
    this.installedBeforeDump = this.known?.ours.size ?? 0;
    this.known = undefined;
    // a dump parses each route's gateway into a string of its own: a table shares a handful
    const gateways = new Map<string, string>();
    const shared = (gw: string): string => { const had = gateways.get(gw); if (had !== undefined) return had; gateways.set(gw, gw); return gw; };
    const ours = new PrefixMap<string>();
    const mineAt = (prefix: string, gateway: string): void => {
      const gw = shared(gateway);
      const key = prefixKey(prefix);
      ours.setKey(key, gw);
      each?.(prefix, gw, key);
    };
    const others = new Set<PrefixKey>();
    if (this.backend.scan) {
      await this.backend.scan({ ours: mineAt, other: (p) => { others.add(prefixKey(p)); } });
    } else {
      const listed = await this.backend.list();
      let n = 0;
      for (const e of listed.ours) {
        mineAt(e.prefix, e.gateway);
        if (++n % YIELD_EVERY === 0) await yieldNow();
      }
      for (const p of listed.others) others.add(prefixKey(p));
    }
    return (this.known = { ours, others });
  }

  private async apply(batch: Map<PrefixKey, string | undefined>): Promise<void> {
    this.batches++;
    let k: Known;
    try {
      k = this.known ?? (await this.dump());
    } catch (e) {
      // nothing applied: the batch goes back under any newer changes, for the next flush
      for (const [p, gw] of batch) if (!this.queue.has(p)) this.queue.set(p, gw);
      throw e;
    }
    let ops: KeyedOp[] = [];
    for (const [key, gw] of batch) {
      const mine = k.ours.getKey(key);
      if (gw === undefined) {
        if (mine !== undefined) ops.push({ op: 'remove', prefix: keyPrefix(key), key });
      } else if (mine === undefined && k.others.has(key)) {
        this.errors.push({ prefix: keyPrefix(key), op: 'replace', message: OWNED_BY_OTHERS });
      } else if (mine !== gw) {
        // not ours yet: create only, so a route another protocol added since the dump is never replaced
        ops.push({ op: 'replace', entry: { prefix: keyPrefix(key), gateway: gw }, exclusive: mine === undefined, key });
      }
      if (ops.length === APPLY_SLICE) { await this.write(k, ops); ops = []; }
    }
    await this.write(k, ops);
  }

  /**
   * One slice of a batch to the kernel. A batch can be the whole table; written a slice at a time, its
   * per-route messages die young instead of living (and being promoted) until the last route is written.
   */
  private async write(k: Known, ops: KeyedOp[]): Promise<void> {
    if (ops.length === 0) return;
    let res: (Error | undefined)[];
    if (this.backend.applyBatch) {
      try {
        res = await this.backend.applyBatch(ops);
      } catch (e) {
        res = ops.map(() => e as Error); // the backend itself failed (socket gone): every op is unapplied
      }
    } else {
      res = [];
      for (const o of ops) {
        try {
          if (o.op === 'remove') await this.backend.remove(o.prefix);
          else await this.backend.replace(o.entry, o.exclusive);
          res.push(undefined);
        } catch (e) {
          res.push(e as Error);
        }
      }
    }
    ops.forEach((o, i) => this.record(k, o, res[i]));
  }

  /** Keeps `known` in step with one op's outcome and records its error. */
  private record(k: Known, o: KeyedOp, err: Error | undefined): void {
    const code = (err as { code?: string } | undefined)?.code;
    const key = o.key;
    if (o.op === 'remove') {
      if (!err || code === 'ESRCH') { k.ours.deleteKey(key); return; } // ESRCH: already gone
      this.errors.push({ prefix: o.prefix, op: 'remove', message: err.message });
      return;
    }
    if (!err) { k.ours.setKey(key, o.entry.gateway); return; }
    if (o.exclusive && code === 'EEXIST') {
      k.others.add(key);
      this.errors.push({ prefix: o.entry.prefix, op: 'replace', message: OWNED_BY_OTHERS });
      return;
    }
    this.errors.push({ prefix: o.entry.prefix, op: 'replace', message: err.message });
  }
}

/** rtnetlink backend for the network namespace the calling thread is in when it is created. */
export class NetlinkFib implements FibBackend {
  /** our own encoder's socket: one dump at start (and on resync) */
  private readonly rtnl = new Rtnl();
  /** writes, batched many per sendmsg, off the main thread: the kernel inserts while the speaker parses */
  private readonly writer = new NlWriter();

  constructor(private readonly table = RT_TABLE_MAIN) {}

  async list(): Promise<{ ours: FibEntry[]; others: Set<string> }> {
    const ours: FibEntry[] = [];
    const others = new Set<string>();
    await this.scan({ ours: (prefix, gateway) => { ours.push({ prefix, gateway }); }, other: (p) => { others.add(p); } });
    return { ours, others };
  }

  /** Both families' unicast routes of the table, each handed on as its datagram of the dump is read. */
  async scan(into: FibScan): Promise<void> {
    for (const family of [4, 6] as const) {
      await eachRoute(this.rtnl, family, this.table, (r) => {
        if (r.type !== 'unicast') return;
        if (r.protocol !== RTPROT_BGP) into.other(r.dst);
        else into.ours(r.dst, r.multipath ? joinNextHops(r.multipath.map((h) => h.gw ?? '')) : r.gw ?? '', r);
      });
    }
  }

  async replace(e: FibEntry, exclusive?: boolean): Promise<void> {
    const [err] = await this.applyBatch([{ op: 'replace', entry: e, exclusive }]);
    if (err) throw err;
  }

  async remove(prefix: string): Promise<void> {
    const [err] = await this.applyBatch([{ op: 'remove', prefix }]);
    if (err) throw err;
  }

  /** Every op tagged protocol 186: a delete names it, so the kernel never removes another protocol's route. */
  async applyBatch(ops: readonly FibOp[]): Promise<(Error | undefined)[]> {
    const out: (Error | undefined)[] = new Array(ops.length);
    const batch = new NlBatch();
    const sent: number[] = []; // batch message -> op index
    ops.forEach((o, i) => {
      try {
        if (o.op === 'remove') encodeRoute(batch, o.prefix, o.key, undefined, this.table);
        else encodeRoute(batch, o.entry.prefix, o.key, o.entry.gateway, this.table, o.exclusive);
        sent.push(i);
      } catch (e) {
        out[i] = e as Error; // unparsable prefix or gateway: fails alone
      }
    });
    // writes expect no reply: only errors and one ACK per sendmsg come back (see native/src/nlwrite.c)
    try {
      const refused = await this.writer.write(batch);
      for (let k = 0; k < refused.length; k += 2) { const i = sent[refused[k]]; out[i] = new NetlinkError(opName(ops[i]), refused[k + 1]); }
    } catch (e) {
      for (const i of sent) out[i] = e as Error; // nothing was sent
    }
    return out;
  }

  close(): void { this.rtnl.close(); this.writer.close(); }
}

/** parsed next hops: 100,000 routes typically share a handful */
const gatewayBytes = new Map<string, Buffer>();

function gatewayOf(prefix: string, gateway: string, alen: number): Buffer {
  let gw = gatewayBytes.get(gateway);
  if (!gw) {
    gw = ipToBytes(gateway);
    if (gatewayBytes.size > 4096) gatewayBytes.clear(); // few distinct next hops in practice; stay bounded
    gatewayBytes.set(gateway, gw);
  }
  if (gw.length !== alen) throw new Error(`route ${prefix}: gateway ${gateway} is not the same IP family`);
  return gw;
}

/** struct rtnexthop (8 bytes) + RTA_GATEWAY, per next hop of RTA_MULTIPATH */
const nexthopLen = (alen: number): number => 8 + 4 + alen;

/** what a failed op was, for its error: "add route 10.1.0.0/24" */
function opName(o: FibOp): string {
  return o.op === 'remove' ? `delete route ${o.prefix}` : `${o.exclusive ? 'add' : 'replace'} route ${o.entry.prefix}`;
}

/**
 * One RTM_NEWROUTE (gateway given) or RTM_DELROUTE (gateway undefined) for protocol 186, encoded straight
 * into the batch rather than through net/route.ts: at 100,000 routes the generic encoder (and an object
 * per route) costs more than the kernel's insert. A new route is created with NLM_F_EXCL when `exclusive`
 * (never replacing what is there), else replaces ours. The delete names protocol 186, so the kernel never
 * matches another protocol's route (and, naming no gateway, removes every next hop of a multipath route).
 * An ECMP gateway set becomes RTA_MULTIPATH, every next hop of weight 1 and no device (the kernel finds
 * it, as for a single gateway).
 */
function encodeRoute(batch: NlBatch, prefix: string, key: PrefixKey | undefined, gateway: string | undefined, table: number, exclusive = false): void {
  // an IPv4 key is the network and length already: no text to parse
  const v4 = typeof key === 'number' ? keyIPv4(key) : undefined;
  const p = v4 ? undefined : parsePrefix(prefix);
  const len = v4 ? v4.len : p!.len;
  const alen = v4 ? 4 : p!.bytes.length; // 4 or 16: already 4-aligned
  const multi = gateway !== undefined && isMultipath(gateway) ? splitNextHops(gateway).map((g) => gatewayOf(prefix, g, alen)) : undefined;
  const gw = gateway === undefined || multi ? undefined : gatewayOf(prefix, gateway, alen);
  const add = gw !== undefined || multi !== undefined;
  const type = add ? RTM.NEWROUTE : RTM.DELROUTE;
  const flags = !add ? 0 : exclusive ? NLM_F.CREATE | NLM_F.EXCL : NLM_F.CREATE | NLM_F.REPLACE;
  const at = batch.message(type, flags, 12 + 8 + (len > 0 ? 4 + alen : 0) + (gw ? 4 + alen : 0) + (multi ? 4 + multi.length * nexthopLen(alen) : 0));
  const b = batch.bytes; // zeroed by message()
  b[at] = alen === 4 ? 2 : 10;
  b[at + 1] = len;
  b[at + 4] = table < 256 ? table : 252;
  b[at + 5] = RTPROT_BGP;
  b[at + 6] = add ? 0 : 255; // universe for an add; "nowhere" matches any scope on delete
  b[at + 7] = 1; // RTN_UNICAST
  b.writeUInt16LE(8, at + 12); // RTA_TABLE: the full 32-bit table id
  b.writeUInt16LE(RTA.TABLE, at + 14);
  b.writeUInt32LE(table, at + 16);
  let off = at + 20;
  if (len > 0) {
    b.writeUInt16LE(4 + alen, off);
    b.writeUInt16LE(RTA.DST, off + 2);
    if (v4) b.writeUInt32BE(v4.addr, off + 4);
    else p!.bytes.copy(b, off + 4, 0, alen);
    off += 4 + alen;
  }
  if (gw) {
    b.writeUInt16LE(4 + alen, off);
    b.writeUInt16LE(RTA.GATEWAY, off + 2);
    gw.copy(b, off + 4);
  }
  if (multi) {
    b.writeUInt16LE(4 + multi.length * nexthopLen(alen), off);
    b.writeUInt16LE(RTA.MULTIPATH, off + 2);
    off += 4;
    for (const g of multi) {
      b.writeUInt16LE(nexthopLen(alen), off); // flags, hops (weight - 1) and ifindex stay 0
      b.writeUInt16LE(4 + alen, off + 8);
      b.writeUInt16LE(RTA.GATEWAY, off + 10);
      g.copy(b, off + 12);
      off += nexthopLen(alen);
    }
  }
}
