// Shapes shared by every cgroup module: the handle the runtime stores, and the stats it reports.

export type CgroupLayout = 'v1' | 'v2' | 'hybrid';

export interface CgroupSpec {
  /** linux.cgroupsPath: absolute (below each hierarchy's mount point), relative (below our own cgroup) or empty */
  cgroupsPath?: string;
  containerId: string;
  resources?: import('../runtime/spec/types').LinuxResources;
}

/** Serialisable: the runtime keeps it in the container's state file. */
export interface CgroupHandle {
  layout: CgroupLayout;
  /** v1 controller name (or 'unified' for the v2 tree) -> absolute directory */
  paths: Record<string, string>;
}

export interface MemoryEntry {
  usage: number;
  max: number;
  limit: number;
  failcnt: number;
}

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

/** runc's `events --stats` "data" object (runc types/events.go). */
export interface CgroupStats {
  cpu: {
    usage: { total: number; percpu: number[]; percpu_kernel: number[]; percpu_user: number[]; kernel: number; user: number };
    throttling: { periods: number; throttledPeriods: number; throttledTime: number };
  };
  memory: {
    cache: number;
    usage: MemoryEntry;
    swap: MemoryEntry;
    kernel: MemoryEntry;
    kernelTCP: MemoryEntry;
    raw: Record<string, number>;
  };
  pids: { current: number; limit: number };
  blkio: {
    ioServiceBytesRecursive: BlkioEntry[];
    ioServicedRecursive: BlkioEntry[];
    ioQueuedRecursive: BlkioEntry[];
    ioServiceTimeRecursive: BlkioEntry[];
    ioWaitTimeRecursive: BlkioEntry[];
    ioMergedRecursive: BlkioEntry[];
    ioTimeRecursive: BlkioEntry[];
    sectorsRecursive: BlkioEntry[];
  };
  hugetlb: Record<string, { usage: number; max: number; failcnt: number }>;
}
