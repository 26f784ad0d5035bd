// Test helper: a link's packet counters inside a lab namespace, to prove which device carried traffic.
import { runIn } from '../../lib/lab/sh';

export function linkPackets(ns: string, dev: string): { tx: number; rx: number } {
  const r = runIn(ns, 'ip', ['-s', '-j', 'link', 'show', 'dev', dev]);
  if (r.status !== 0) throw new Error(`no link ${dev} in ${ns}: ${r.stderr.trim()}`);
  const s = (JSON.parse(r.stdout) as { stats64: { tx: { packets: number }; rx: { packets: number } } }[])[0].stats64;
  return { tx: s.tx.packets, rx: s.rx.packets };
}
