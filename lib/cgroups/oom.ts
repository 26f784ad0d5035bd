// OOM notification for `events`. The v1 eventfd interface (cgroup.event_control) needs an eventfd,
// which Node cannot create, so both versions poll a counter the kernel keeps: v2 memory.events
// "oom_kill", v1 memory.oom_control "oom_kill" (Linux 4.13+). A poll every 200 ms is cheap and
// `events` reports at second granularity anyway.
import { readOptional } from './files';
import type { CgroupHandle } from './types';

function oomFile(h: CgroupHandle): { dir: string; file: string } | undefined {
  if (h.paths.memory) return { dir: h.paths.memory, file: 'memory.oom_control' };
  if (h.paths.unified && h.layout === 'v2') return { dir: h.paths.unified, file: 'memory.events' };
  return undefined;
}

/** The kernel's count of OOM kills in this cgroup, or undefined when it cannot be read. */
export async function oomKillCount(h: CgroupHandle): Promise<number | undefined> {
  const f = oomFile(h);
  if (!f) return undefined;
  const m = /^oom_kill (\d+)$/m.exec((await readOptional(f.dir, f.file)) ?? '');
  return m ? Number(m[1]) : undefined;
}

/** Calls onOom once per new OOM kill; returns a function that stops watching. */
export function watchOom(h: CgroupHandle, onOom: () => void, intervalMs = 200): () => void {
  let last: number | undefined;
  let busy = false;
  let stopped = false;
  const tick = async (): Promise<void> => {
    if (busy || stopped) return;
    busy = true;
    try {
      const n = await oomKillCount(h);
      if (n !== undefined && last !== undefined) for (let i = last; i < n && !stopped; i++) onOom();
      if (n !== undefined) last = n;
    } catch {
      /* the cgroup is going away: nothing more to report */
    } finally {
      busy = false;
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref(); // a watcher alone must not keep the process alive
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
