// Test helper: the lab of the BGP encapsulation tests (encap-bgp, encap-ipip): three nodes on two underlay
// subnets (n1, n2 on 10.250.0.0/24; n3 on 10.251.0.0/24 behind the router), a pod on each (a on n1, b on
// n2, c on n3) made when the agents first start, and what those tests read of each node's kernel.
import type { Lab } from '../../lib/lab/lab';
import type { Pod } from '../../lib/lab/pods';
import { runIn } from '../../lib/lab/sh';
import { testLab, within } from './lab';

export const ENCAP_NODES = ['n1', 'n2', 'n3'];

export class BgpEncapLab {
  private readonly pods: Record<string, Pod> = {};

  private constructor(readonly lab: Lab) {}

  static async up(t: { teardown(fn: () => unknown): void }, tag: string): Promise<BgpEncapLab> {
    return new BgpEncapLab(await testLab(t, { nodes: 3, subnets: 2, network: 'bgp', agents: false, ttlS: 6, intervalS: 0.5, tag }));
  }

  ns(node: string): string {
    return this.lab.node(node).ns;
  }

  /** the node's pod block */
  block(node: string): string {
    return this.lab.settings(node).subnet;
  }

  /** the node's BGP routes as `ip route` prints them, one space between words, blackholes left out */
  routes(node: string): string[] {
    return runIn(this.ns(node), 'ip', ['route', 'show', 'proto', 'bgp']).stdout.split('\n').map((l) => l.trim().replace(/\s+/g, ' ')).filter((l) => l && !l.startsWith('blackhole'));
  }

  /** Waits until `node`'s BGP routes are exactly these lines. */
  async routesBecome(node: string, want: string[]): Promise<boolean> {
    return (await within(15_000, () => JSON.stringify(this.routes(node).sort()) === JSON.stringify([...want].sort()))) >= 0;
  }

  hasLink(node: string, dev: string): boolean {
    return runIn(this.ns(node), 'ip', ['link', 'show', dev]).status === 0;
  }

  /** pod `from` pings pod `to` (names: a, b, c) n times; true when all of it went well */
  ping(from: string, to: string, n = 1): boolean {
    return runIn(this.pods[from].ns, 'ping', ['-c', String(n), '-i', '0.2', '-W', '2', this.pods[to].ip]).status === 0;
  }

  /** Starts every node's agent with these flags; the first time, the pods too. */
  async start(extra: string[]): Promise<void> {
    await this.lab.startAgents(ENCAP_NODES, extra);
    if (!this.pods.a) {
      this.pods.a = this.lab.addPod('n1', 'a');
      this.pods.b = this.lab.addPod('n2', 'b');
      this.pods.c = this.lab.addPod('n3', 'c');
    }
  }

  async stop(signal: NodeJS.Signals): Promise<void> {
    for (const n of ENCAP_NODES) await this.lab.stopAgent(n, signal);
  }
}
