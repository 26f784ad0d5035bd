// The agent holds a routing table for days. V8's default heap growth lets the old generation grow by a
// large factor before the next full GC: at a 1M-route feed that left 250-350 MB of dead routes resident
// (bench/bgp-agent: peak 438 MB, 4.6x BIRD's). A 20% growth step keeps RSS near the live table (with the
// compact kernel record, lib/cni/bgp/prefix-map.ts: peak 179 MB, 1.9x BIRD's) for more, smaller GCs while a
// big table loads. The GC reads the flag as it runs, so setting it at start is enough; the semi-space
// size, by contrast, is fixed when the heap is made and cannot be changed from here.
import * as v8 from 'node:v8';

export const AGENT_HEAP_GROWING_PERCENT = 20;

export function tuneHeapForTable(): void {
  v8.setFlagsFromString(`--heap-growing-percent=${AGENT_HEAP_GROWING_PERCENT}`);
}
