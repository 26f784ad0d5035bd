// FIB sync: best BGP routes into the kernel's main table through rtnetlink, tagged with protocol 186
// ("bgp" in iproute2's rt_protos), in batches. Routes carrying another protocol id are never touched:
// deletes name protocol 186 (the kernel matches it) and installs skip prefixes another protocol owns.
import type * as NetlinkTypes from 'netlink';
import { AFI } from './codec/constants';
import { formatPrefix, ipToBytes, parsePrefix } from './codec/ip';
import type { BestChange } from './rib';
import type { Route } from './route';
import { NLM_F, RTA, RTM } from '../net/nl/constants';
import { Rtnl, type NlRequest } from '../net/nl/socket';

export const RTPROT_BGP = 186;
const RT_TABLE_MAIN = 254;

export interface FibEntry { prefix: string; gateway: string }

/** The kernel side, behind an interface so the batching logic is unit-testable without root. */
export interface FibBackend {
  /** routes of the table: ours (protocol 186) and, separately, prefixes held by any other protocol */
  list(): Promise<{ ours: FibEntry[]; others: Set<string> }>;
  replace(e: FibEntry): Promise<void>;
  remove(prefix: string): Promise<void>;
  /**
   * Optional bulk form of replace/remove: applies every op and resolves with one result per op (undefined =
   * done, else that op's error), so one failure costs only its own route. Without it FibSync calls
   * replace/remove one at a time.
   */
  applyBatch?(ops: readonly FibOp[]): Promise<(Error | undefined)[]>;
  close(): void;
}

export type FibOp = { op: 'replace'; entry: FibEntry } | { op: 'remove'; prefix: string };

export interface FibError { prefix: string; op: 'replace' | 'remove'; message: string }

/** Collects Loc-RIB changes and applies them in batches: one kernel dump, then the changed prefixes in bulk. */
export class FibSync {
  /** prefix -> wanted gateway (undefined = remove); later changes of a prefix overwrite earlier ones */
  private readonly queue = new Map<string, string | undefined>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  readonly errors: FibError[] = [];
  batches = 0;

  constructor(private readonly backend: FibBackend, private readonly batchMs = 50) {}

  /** Feed it the speaker's onBestChange. Local routes (our own blocks) are not installed. */
  update(changes: readonly BestChange[]): void {
    for (const c of changes) {
      const gw = c.best && !c.best.source.local ? c.best.attrs.nextHop : undefined;
      this.queue.set(c.prefix, gw);
    }
    if (!this.timer && this.queue.size) {
      this.timer = setTimeout(() => { this.timer = undefined; void this.flush(); }, this.batchMs);
    }
  }

  /** Applies everything queued; resolves when the kernel has answered. */
  async flush(): Promise<void> {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    while (this.running) await this.running;
    if (this.queue.size === 0) return;
    const batch = new Map(this.queue);
    this.queue.clear();
    this.running = this.apply(batch);
    try { await this.running; } finally { this.running = undefined; }
  }

  /** Start-up: make the kernel's protocol-186 routes exactly `best` (restarting changes nothing right). */
  async reconcile(best: readonly Route[]): Promise<void> {
    const want = new Map<string, string>();
    for (const r of best) if (!r.source.local && r.attrs.nextHop) want.set(r.prefix, r.attrs.nextHop);
    const { ours } = await this.backend.list();
    for (const e of ours) if (!want.has(e.prefix)) this.queue.set(e.prefix, undefined);
    for (const [p, gw] of want) if (!ours.some((e) => e.prefix === p && e.gateway === gw)) this.queue.set(p, gw);
    await this.flush();
  }

  /** Removes every route we installed (after the graceful-restart window, on shutdown). */
  async removeAll(): Promise<void> {
    const { ours } = await this.backend.list();
    for (const e of ours) this.queue.set(e.prefix, undefined);
    await this.flush();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.backend.close();
  }

  private async apply(batch: Map<string, string | undefined>): Promise<void> {
    this.batches++;
    const { ours, others } = await this.backend.list();
    const installed = new Map(ours.map((e) => [e.prefix, e.gateway]));
    const ops: FibOp[] = [];
    for (const [prefix, gw] of batch) {
      if (gw === undefined) {
        if (installed.has(prefix)) ops.push({ op: 'remove', prefix });
      } else if (others.has(prefix) && !installed.has(prefix)) {
        this.errors.push({ prefix, op: 'replace', message: 'prefix owned by another routing protocol: left alone' });
      } else if (installed.get(prefix) !== gw) {
        ops.push({ op: 'replace', entry: { prefix, gateway: gw } });
      }
    }
    const prefixOf = (o: FibOp): string => (o.op === 'remove' ? o.prefix : o.entry.prefix);
    if (this.backend.applyBatch) {
      let res: (Error | undefined)[];
      try {
        res = await this.backend.applyBatch(ops);
      } catch (e) {
        res = ops.map(() => e as Error); // the backend itself failed (socket gone): every op is unapplied
      }
      ops.forEach((o, i) => { const e = res[i]; if (e) this.errors.push({ prefix: prefixOf(o), op: o.op, message: e.message }); });
      return;
    }
    for (const o of ops) {
      try {
        if (o.op === 'remove') await this.backend.remove(o.prefix);
        else await this.backend.replace(o.entry);
      } catch (e) {
        this.errors.push({ prefix: prefixOf(o), op: o.op, message: (e as Error).message });
      }
    }
  }
}

/** rtnetlink backend for the network namespace the calling thread is in when it is created. */
export class NetlinkFib implements FibBackend {
  private readonly sock: NetlinkTypes.RtNetlinkSocket;
  private readonly nl: typeof NetlinkTypes;
  /** our own encoder's socket, for writes: it batches many route messages per sendmsg */
  private readonly rtnl: Rtnl;

  constructor(private readonly table = RT_TABLE_MAIN) {
    // loaded here: the package costs ~20 ms and only the agent needs it
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    this.nl = require('netlink') as typeof NetlinkTypes;
    this.sock = this.nl.createRtNetlink();
    this.rtnl = new Rtnl();
  }

  async list(): Promise<{ ours: FibEntry[]; others: Set<string> }> {
    const ours: FibEntry[] = [];
    const others = new Set<string>();
    for (const family of [2, 10]) {
      const msgs = await this.sock.getRoutes({ family });
      for (const m of msgs) {
        const tableId = m.attrs.table ?? m.data.table;
        if (tableId !== this.table || (m.data.type !== 1 && m.data.type !== 'UNICAST')) continue;
        const afi = family === 2 ? AFI.IPV4 : AFI.IPV6;
        const prefix = formatPrefix(afi, m.attrs.dst ?? Buffer.alloc(afi === AFI.IPV4 ? 4 : 16), m.data.dstLen ?? 0);
        const proto = typeof m.data.protocol === 'number' ? m.data.protocol : this.nl.rt.RouteProtocol[m.data.protocol as keyof typeof NetlinkTypes.rt.RouteProtocol];
        if (proto === RTPROT_BGP) {
          const gw = m.attrs.gateway;
          ours.push({ prefix, gateway: gw ? formatPrefix(afi, gw, afi === AFI.IPV4 ? 32 : 128).split('/')[0] : '' });
        } else others.add(prefix);
      }
    }
    return { ours, others };
  }

  async replace(e: FibEntry): Promise<void> {
    const [err] = await this.applyBatch([{ op: 'replace', entry: e }]);
    if (err) throw err;
  }

  async remove(prefix: string): Promise<void> {
    const [err] = await this.applyBatch([{ op: 'remove', prefix }]);
    if (err) throw err;
  }

  /** Every op tagged protocol 186: a delete names it, so the kernel never removes another protocol's route. */
  async applyBatch(ops: readonly FibOp[]): Promise<(Error | undefined)[]> {
    const out: (Error | undefined)[] = new Array(ops.length);
    const reqs: NlRequest[] = [];
    const idx: number[] = [];
    ops.forEach((o, i) => {
      try {
        reqs.push(o.op === 'remove' ? routeMsg(o.prefix, undefined, this.table) : routeMsg(o.entry.prefix, o.entry.gateway, this.table));
        idx.push(i);
      } catch (e) {
        out[i] = e as Error; // unparsable prefix or gateway: fails alone
      }
    });
    const res = await this.rtnl.requestBatch(reqs);
    res.forEach((r, k) => { out[idx[k]] = r instanceof Error ? r : undefined; });
    return out;
  }

  close(): void { this.rtnl.close(); this.sock.socket.close(); }
}

/** parsed next hops: 100,000 routes typically share a handful */
const gatewayBytes = new Map<string, Buffer>();

/**
 * One RTM_NEWROUTE (replace, gateway given) or RTM_DELROUTE (gateway undefined) for protocol 186, encoded
 * here rather than through net/route.ts: the BGP codec has already parsed the prefix to bytes, and the
 * generic parser costs more than the kernel's insert at 100,000 routes. The delete names protocol 186, so
 * the kernel never matches another protocol's route.
 */
function routeMsg(prefix: string, gateway: string | undefined, table: number): NlRequest {
  const p = parsePrefix(prefix);
  let gw = gateway === undefined ? undefined : gatewayBytes.get(gateway);
  if (gateway !== undefined && !gw) {
    gw = ipToBytes(gateway);
    if (gatewayBytes.size > 4096) gatewayBytes.clear(); // few distinct next hops in practice; stay bounded
    gatewayBytes.set(gateway, gw);
  }
  if (gw && gw.length !== p.bytes.length) throw new Error(`route ${prefix}: gateway ${gateway} is not the same IP family`);
  const alen = p.bytes.length; // 4 or 16: already 4-aligned
  const b = Buffer.alloc(12 + 8 + (p.len > 0 ? 4 + alen : 0) + (gw ? 4 + alen : 0));
  b.writeUInt8(p.afi === AFI.IPV4 ? 2 : 10, 0);
  b.writeUInt8(p.len, 1);
  b.writeUInt8(table < 256 ? table : 252, 4);
  b.writeUInt8(RTPROT_BGP, 5);
  b.writeUInt8(gw ? 0 : 255, 6); // universe for a replace; "nowhere" matches any scope on delete
  b.writeUInt8(1, 7); // RTN_UNICAST
  let off = 12;
  const attr = (type: number, v: Buffer): void => { b.writeUInt16LE(4 + v.length, off); b.writeUInt16LE(type, off + 2); v.copy(b, off + 4); off += 4 + v.length; };
  const t = Buffer.alloc(4); t.writeUInt32LE(table);
  attr(RTA.TABLE, t);
  if (p.len > 0) attr(RTA.DST, p.bytes.subarray(0, alen));
  if (gw) attr(RTA.GATEWAY, gw);
  return gw
    ? { op: `replace route ${prefix}`, type: RTM.NEWROUTE, flags: NLM_F.CREATE | NLM_F.REPLACE, body: b }
    : { op: `delete route ${prefix}`, type: RTM.DELROUTE, flags: 0, body: b };
}
