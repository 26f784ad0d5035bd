// The embedded store: every lease in one JSON file, rewritten atomically while holding an flock on a
// lock file next to it. Each operation is a synchronous read-modify-write under the lock, so agents in
// different processes (or lab nodes sharing the directory) never hand out one subnet twice.
// The lock is held for one read and one rewrite of a small file, so the blocking flock does not stall the daemon.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError } from '../../../util/errors';
import { withLockSync } from '../../../util/file-lock';
import { readFileIfExists, writeFileAtomicSync } from '../../../util/fs';
import { Lease, LeaseLostError, LeasePolicy, NodeInfo, NoFreeSubnetError, SubnetStore } from './types';
import { checkSubnetLen, parseNet, pickSubnet } from '../subnets';

interface FileState { version: 1; leases: Record<string, Lease> }

export class FileStore implements SubnetStore {
  readonly kind = 'embedded' as const;
  private readonly file: string;
  private readonly lockFile: string;

  constructor(readonly dir: string, private readonly now: () => number = Date.now) {
    this.file = path.join(dir, 'leases.json');
    this.lockFile = path.join(dir, 'leases.lock');
  }

  private locked<T>(fn: (s: FileState) => T, write: boolean): T {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    return withLockSync(this.lockFile, 'exclusive', () => {
      const state = this.read();
      const out = fn(state);
      if (write) writeFileAtomicSync(this.file, JSON.stringify(state, null, 2) + '\n');
      return out;
    }, { fileMode: 0o644 });
  }

  private read(): FileState {
    const text = readFileIfExists(this.file);
    if (text === undefined) return { version: 1, leases: {} };
    try {
      const s = JSON.parse(text) as FileState;
      if (s.version !== 1 || typeof s.leases !== 'object' || s.leases === null) throw new Error('unknown format');
      return s;
    } catch (e) {
      throw new BerthError(`${this.file}: corrupt store: ${(e as Error).message}`, { field: '--store-dir' });
    }
  }

  /** Drops expired leases; they are free again. */
  private prune(s: FileState): void {
    const now = this.now();
    for (const [k, l] of Object.entries(s.leases)) if (l.expiresAt <= now) delete s.leases[k];
  }

  async acquire(info: NodeInfo, policy: LeasePolicy, preferred?: string): Promise<Lease> {
    const net = parseNet(policy.network, 'network');
    checkSubnetLen(net, policy.subnetLen, 'subnetLen');
    return this.locked((s) => {
      this.prune(s);
      const mine = Object.values(s.leases).find((l) => l.node === info.node);
      const subnet = mine?.subnet ?? pickSubnet(net, policy.subnetLen, new Set(Object.keys(s.leases)), preferred);
      if (!subnet) throw new NoFreeSubnetError(policy.network, policy.subnetLen);
      const lease: Lease = { ...info, subnet, expiresAt: this.now() + policy.ttlMs };
      s.leases[subnet] = lease;
      return lease;
    }, true);
  }

  async renew(lease: Lease, ttlMs: number): Promise<Lease> {
    return this.locked((s) => {
      const cur = s.leases[lease.subnet];
      // an expired lease may still be in the file (nobody pruned it yet): it is lost all the same
      if (!cur || cur.expiresAt <= this.now()) throw new LeaseLostError(lease.subnet, 'expired');
      if (cur.node !== lease.node) throw new LeaseLostError(lease.subnet, `now held by ${cur.node}`);
      const next: Lease = { node: lease.node, publicIp: lease.publicIp, vtepMac: lease.vtepMac, backend: lease.backend, subnet: lease.subnet, expiresAt: this.now() + ttlMs };
      s.leases[lease.subnet] = next;
      return next;
    }, true);
  }

  async release(lease: Lease): Promise<void> {
    this.locked((s) => {
      if (s.leases[lease.subnet]?.node === lease.node) delete s.leases[lease.subnet];
    }, true);
  }

  async list(): Promise<Lease[]> {
    const now = this.now();
    return this.locked((s) => Object.values(s.leases).filter((l) => l.expiresAt > now), false);
  }

  async close(): Promise<void> {
    // nothing held between calls
  }
}
