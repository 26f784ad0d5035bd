// FIB sync: best BGP routes into the kernel's main table through rtnetlink, tagged with protocol 186
// ("bgp" in iproute2's rt_protos), in batches. Routes carrying another protocol id are never touched:
// deletes name protocol 186 (the kernel matches it) and installs skip prefixes another protocol owns.
import type * as NetlinkTypes from 'netlink';
import { AFI } from './codec/constants';
import { formatPrefix, ipToBytes, parsePrefix } from './codec/ip';
import type { BestChange } from './rib';
import type { Route } from './route';
import { Rtnl } from '../net/nl/socket';
import { routeBatch, type RouteOp } from '../net/route';

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
  applyBatch(ops: readonly FibOp[]): Promise<(Error | undefined)[]> {
    const rops: RouteOp[] = ops.map((o) => o.op === 'remove'
      ? { op: 'delete', route: { dst: o.prefix, protocol: RTPROT_BGP, table: this.table } }
      : { op: 'replace', route: { dst: o.entry.prefix, gw: o.entry.gateway, protocol: RTPROT_BGP, table: this.table, scope: 0 } });
    return routeBatch(this.rtnl, rops);
  }

  close(): void { this.rtnl.close(); this.sock.socket.close(); }
}
