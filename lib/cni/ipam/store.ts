// berth-ipam's on-disk state, in the reference host-local's layout so both (and GC tools) agree:
//   <dataDir>/<network>/<ip>                 "containerID\r\nifname"
//   <dataDir>/<network>/last_reserved_ip.<N>  the last address handed out from range set N
// Every method expects the caller to hold the lock: an flock on the network directory itself (as the
// reference does), blocking, which is fine in a short-lived plugin process.
import fs = require('node:fs');
import path = require('node:path');
import { lockSync } from '../../util/file-lock';
import { readFileIfExists, writeFileAtomicSync } from '../../util/fs';
import { formatIP, parseIP } from '../../util/ip-address';

export interface Owner {
  id: string;
  ifname: string;
}

const LAST_RESERVED = 'last_reserved_ip.';

export class IpamStore {
  readonly dir: string;
  constructor(dataDir: string, network: string) {
    this.dir = path.join(dataDir, network);
  }

  /** Runs `fn` holding the network's lock; creates the directory on first use. */
  withLock<T>(fn: () => T): T {
    const release = this.lock();
    try {
      return fn();
    } finally {
      release();
    }
  }

  /**
   * The directory exists after the network's first ADD, so it is locked first and made only when that
   * fails; then as before (mkdir, lock), which also gives the same error for a path that cannot be one.
   */
  private lock(): () => void {
    try {
      return lockSync(this.dir, 'exclusive', { directory: true });
    } catch {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o755 });
      return lockSync(this.dir, 'exclusive', { directory: true });
    }
  }

  /** False before the first ADD of the network: DEL and GC then have nothing to do. */
  exists(): boolean {
    return fs.existsSync(this.dir);
  }

  /** Every allocation with its owner. */
  allocations(): Map<string, Owner> {
    const out = new Map<string, Owner>();
    for (const name of this.entries()) {
      const text = readFileIfExists(path.join(this.dir, name));
      if (text === undefined) continue;
      const [id = '', ifname = ''] = text.split(/\r?\n/);
      out.set(name, { id: id.trim(), ifname: ifname.trim() });
    }
    return out;
  }

  /** Writes the allocation file for `ip` (canonical form); false when it is already taken. */
  reserve(ip: string, owner: Owner): boolean {
    const file = path.join(this.dir, ip);
    if (fs.existsSync(file)) return false;
    writeFileAtomicSync(file, `${owner.id}\r\n${owner.ifname}`, 0o600);
    return true;
  }

  release(ip: string): void {
    fs.rmSync(path.join(this.dir, ip), { force: true });
  }

  byOwner(owner: Owner): string[] {
    return ownedBy(this.allocations(), owner);
  }

  lastReserved(setIndex: number): string | undefined {
    return readFileIfExists(path.join(this.dir, LAST_RESERVED + setIndex))?.trim();
  }

  /**
   * Rewritten in place (write, then cut to length), not by rename or O_TRUNC: on ext4 both make the kernel
   * allocate and start writing the file's blocks at once (auto_da_alloc), the costliest step of an ADD. Only
   * holders of the lock read it; a process killed between the two steps leaves a stale or unparsable hint,
   * and a hint that does not parse restarts the round robin at the range's start (as host-local does).
   */
  setLastReserved(setIndex: number, ip: string): void {
    const fd = fs.openSync(path.join(this.dir, LAST_RESERVED + setIndex), fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o644);
    try {
      const bytes = Buffer.from(ip);
      fs.writeSync(fd, bytes, 0, bytes.length, 0);
      fs.ftruncateSync(fd, bytes.length);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Directory entries that are allocations: names that parse as addresses in canonical form. */
  private entries(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return names.filter((n) => {
      const a = parseIP(n);
      return a !== undefined && formatIP(a) === n;
    });
  }
}

/** The addresses of `allocations` (IpamStore.allocations) that `owner` holds. */
export function ownedBy(allocations: ReadonlyMap<string, Owner>, owner: Owner): string[] {
  return [...allocations].filter(([, o]) => o.id === owner.id && o.ifname === owner.ifname).map(([ip]) => ip);
}
