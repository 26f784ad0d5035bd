// FibSync's kernel side for the BGP backend with an encapsulation: FibSync decides which best routes go
// into the kernel (protocol 186, in batches); this decides each route's shape. A route whose gateway is a
// node we tunnel to becomes "via <node's underlay address> dev <tunnel> onlink" (Calico's tunl0 and
// vxlan.calico routes); any other goes to the plain NetlinkFib unchanged. Its dump reports a route of
// the wrong shape (direct where a tunnel is wanted, or the reverse) with no gateway, so FibSync's
// reconcile rewrites it.
import * as net from '../../../net';
import { RTPROT_BGP, type FibBackend, type FibEntry, type FibOp } from '../../../bgp/fib';

/** The tunnel device's ifindex for a route to `prefix` via `gateway`, or undefined for a plain route. */
export type TunnelFor = (prefix: string, gateway: string) => number | undefined;

export class EncapFib implements FibBackend {
  constructor(private readonly inner: FibBackend, private readonly nl: net.Rtnl, private readonly tunnelFor: TunnelFor) {}

  async list(): Promise<{ ours: FibEntry[]; others: Set<string> }> {
    const base = await this.inner.list();
    const v4 = new Map((await net.listRoutes(this.nl, 4)).filter((r) => r.protocol === RTPROT_BGP && r.type === 'unicast').map((r) => [r.dst, r]));
    const ours = base.ours.map((e) => {
      const r = v4.get(e.prefix);
      if (!r) return e; // IPv6: never tunnelled
      const dev = this.tunnelFor(e.prefix, e.gateway);
      const right = dev === undefined ? !r.onlink : r.dev === dev && r.onlink;
      return right ? e : { prefix: e.prefix, gateway: '' };
    });
    return { ours, others: base.others };
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
    for (const [i, o] of ops.entries()) {
      const dev = o.op === 'replace' && net.ipFamily(o.entry.gateway) === 4 ? this.tunnelFor(o.entry.prefix, o.entry.gateway) : undefined;
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

  close(): void {
    this.inner.close();
  }
}
