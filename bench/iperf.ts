// iperf3 between two namespaces for the throughput benches (vxlan-iperf, encap-iperf).
import { runIn } from '../lib/lab/sh';

/** bits per second received in one `iperf3 -c ip -t seconds` run from the client namespace. */
export function iperf(client: string, ip: string, seconds: number): number {
  const r = runIn(client, 'iperf3', ['-c', ip, '-t', String(seconds), '-J'], { timeoutMs: (seconds + 20) * 1000 });
  if (r.status !== 0) throw new Error(`iperf3 from ${client} to ${ip} failed: ${r.stdout.slice(0, 300)} ${r.stderr}`);
  return (JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
