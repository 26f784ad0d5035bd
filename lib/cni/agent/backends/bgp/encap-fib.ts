// FibSync's kernel side for the BGP backend with an encapsulation: FibSync decides which best routes go
// into the kernel (protocol 186, in batches); this decides each route's shape. A route whose gateway is a
// node we tunnel to becomes "via <node's underlay address> dev <tunnel> onlink" (Calico's tunl0 and
// vxlan.calico routes); any other goes to the plain NetlinkFib unchanged. Its dump reports a route of
// the wrong shape (direct where a tunnel is wanted, or the reverse) with no gateway, so FibSync's
// reconcile rewrites it.
//
// ECMP: a multipath set whose next hops are all plain goes to NetlinkFib as one multipath route. A set
// holding a tunnelled next hop is installed as a single route through its first next hop (in the set's
// order, so the same one every time): a tunnelled next hop is another node, and the agent imports from
// nodes only their own blocks, each announced by one node, so such a set does not arise from the agent's
// own peers; a kernel multipath route through the tunnel would need a device and onlink per next hop.
import * as net from '../../../net';
import { RTPROT_BGP, type FibBackend, type FibEntry, type FibOp, type FibScan } from '../../../bgp/fib';
import { isMultipath, splitNextHops } from '../../../bgp/fib-nexthops';

/** The tunnel device's ifindex for a route to `prefix` via `gateway`, or undefined for a plain route. */
export type TunnelFor = (prefix: string, gateway: string) => number | undefined;

export class EncapFib implements FibBackend {
  /** multipath sets installed through one next hop: prefix -> the set FibSync asked for and the hop installed */
  private readonly collapsed = new Map<string, { wanted: string; installed: string }>();

  constructor(private readonly inner: FibBackend, private readonly nl: net.Rtnl, private readonly tunnelFor: TunnelFor) {}

  async list(): Promise<{ ours: FibEntry[]; others: Set<string> }> {
    const base = await this.inner.list();
    const v4 = new Map((await net.listRoutes(this.nl, 4)).filter((r) => r.protocol === RTPROT_BGP && r.type === 'unicast').map((r) => [r.dst, r]));
    // IPv6: never tunnelled
    const ours = base.ours.map((e) => (e.prefix.includes(':') ? e : { prefix: e.prefix, gateway: this.asAsked(e.prefix, e.gateway, v4.get(e.prefix)) }));
    return { ours, others: base.others };
  }

  /** The plain backend's dump streamed, each IPv4 route read with its device and onlink flag: no second listing. */
  async scan(into: FibScan): Promise<void> {
    if (!this.inner.scan) {
      const { ours, others } = await this.list();
      for (const e of ours) into.ours(e.prefix, e.gateway);
      for (const p of others) into.other(p);
      return;
    }
    await this.inner.scan({
      ours: (prefix, gateway, shape) => into.ours(prefix, prefix.includes(':') ? gateway : this.asAsked(prefix, gateway, shape)),
      other: (p) => into.other(p),
    });
  }

  /** A route of ours as FibSync asked for it: no gateway when its shape is wrong, so reconcile rewrites it. */
  private asAsked(prefix: string, gateway: string, shape: Pick<net.RouteEntry, 'dev' | 'onlink'> | undefined): string {
    if (!shape) return gateway;
    const dev = isMultipath(gateway) ? undefined : this.tunnelFor(prefix, gateway);
    const right = dev === undefined ? !shape.onlink : shape.dev === dev && shape.onlink;
    if (!right) return '';
    // a collapsed set, as we installed it, is what FibSync asked for
    const c = this.collapsed.get(prefix);
    return c && c.installed === gateway ? c.wanted : gateway;
  }

  replace(e: FibEntry, exclusive?: boolean): Promise<void> {
    return this.one({ op: 'replace', entry: e, exclusive });
  }

  remove(prefix: string): Promise<void> {
    return this.one({ op: 'remove', prefix });
  }

  private async one(o: FibOp): Promise<void> {
    const err = (await this.applyBatch([o]))[0];
    if (err) throw err;
  }

  /** Tunnel routes one by one (few: one per node); the rest in one batch of the plain backend. */
  async applyBatch(ops: readonly FibOp[]): Promise<(Error | undefined)[]> {
    const out: (Error | undefined)[] = new Array(ops.length);
    const plain: FibOp[] = [];
    const at: number[] = [];
    for (const [i, given] of ops.entries()) {
      const o = this.collapse(given);
      const dev = o.op === 'replace' && !isMultipath(o.entry.gateway) && net.ipFamily(o.entry.gateway) === 4 ? this.tunnelFor(o.entry.prefix, o.entry.gateway) : undefined;
      if (o.op === 'remove' || dev === undefined) {
        plain.push(o);
        at.push(i);
        continue;
      }
      const spec = { dst: o.entry.prefix, gw: o.entry.gateway, dev, onlink: true, protocol: RTPROT_BGP };
      try {
        await (o.exclusive ? net.addRoute(this.nl, spec) : net.replaceRoute(this.nl, spec));
      } catch (e) {
        out[i] = e as Error;
      }
    }
    if (plain.length) {
      const res = this.inner.applyBatch
        ? await this.inner.applyBatch(plain)
        : await Promise.all(plain.map((o) => (o.op === 'remove' ? this.inner.remove(o.prefix) : this.inner.replace(o.entry, o.exclusive)).then(() => undefined, (e: Error) => e)));
      res.forEach((r, k) => { out[at[k]] = r; });
    }
    return out;
  }

  /** A multipath set with a tunnelled next hop becomes its first next hop alone (see the top of the file). */
  private collapse(o: FibOp): FibOp {
    const prefix = o.op === 'remove' ? o.prefix : o.entry.prefix;
    this.collapsed.delete(prefix);
    if (o.op === 'remove' || !isMultipath(o.entry.gateway)) return o;
    const hops = splitNextHops(o.entry.gateway);
    if (net.ipFamily(hops[0]) !== 4 || hops.every((g) => this.tunnelFor(prefix, g) === undefined)) return o;
    this.collapsed.set(prefix, { wanted: o.entry.gateway, installed: hops[0] });
    return { ...o, entry: { prefix, gateway: hops[0] } };
  }

  close(): void {
    this.inner.close();
  }
}
