// On-demand benchmark (not a CI gate): UPDATE encode/decode throughput and Loc-RIB insertion rate.
// Run: node dist/bench/bgp-codec.js [routes]
import { decodeMessage, encodeMessage, type UpdateMessage } from '../lib/cni/bgp/codec';
import { buildUpdates } from '../lib/cni/bgp/export';
import { Rib } from '../lib/cni/bgp/rib';
import type { Route } from '../lib/cni/bgp/route';
import type { PathAttributes } from '../lib/cni/bgp/codec';

const n = Number(process.argv[2] ?? 200_000);
const attrs: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [65001, 65002, 65003] }], nextHop: '10.0.0.1', med: 10, communities: [1, 2] };
const prefixes = Array.from({ length: n }, (_, i) => `${10 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`);

const time = (label: string, count: number, fn: () => void): void => {
  const t0 = process.hrtime.bigint();
  fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`${label}: ${count} in ${ms.toFixed(0)} ms (${Math.round((count / ms) * 1000)}/s)`);
};

let updates: UpdateMessage[] = [];
let wires: Buffer[] = [];
time('pack prefixes into UPDATEs', n, () => { updates = buildUpdates(1, new Map(prefixes.map((p) => [p, attrs])), [], { as4: true }); });
time('encode UPDATEs (prefixes)', n, () => { wires = updates.map((u) => encodeMessage(u)); });
time('decode UPDATEs (prefixes)', n, () => { for (const w of wires) decodeMessage(w); });
const rib = new Rib((r) => r);
const source = { id: '10.0.0.2', address: '10.0.0.2', asn: 65001, routerId: '10.0.0.2', internal: false, rrClient: false, local: false };
const routes: Route[] = prefixes.map((prefix) => ({ prefix, afi: 1, attrs, source }));
time('Loc-RIB insert (one peer)', n, () => { rib.update(source.id, routes, []); });
time('Loc-RIB withdraw', n, () => { rib.update(source.id, [], prefixes); });
