// Network namespaces made ahead of the warm launches that need one (issue 13): making a namespace is
// ~0.3 ms of the front-end's clone, and here it is made while the server waits for the next call. The
// front-end enters the one it is given for its clone (native/src/bootstrap.c enter_ready_netns) instead of
// asking the kernel for a new one. Each namespace goes to one container and is never used again; the pool
// holds only descriptors, so a server killed at any moment loses nothing but them.
import fs = require('node:fs');
import { CLONE, native } from '../sys/native';
import type { LaunchPlan } from '../runtime/launch-plan';

/** Enough for back-to-back creates: one is made again while the next call is on its way. */
const SIZE = 2;

/**
 * A new namespace takes some settings from the host's as it is made (net.ipv4.conf.default.*, say): one made
 * longer ago than this is closed instead of handed out, so a host setting changed since reaches every
 * container created more than this later, as it would with namespaces made at clone.
 */
const MAX_AGE_MS = 2000;

/**
 * After the kernel refuses one (ENOMEM, a namespace limit reached), the pool asks again only this much later:
 * launches meanwhile make their own, as without a pool, and a passing shortage does not turn the pool off
 * for the server's life.
 */
const RETRY_AFTER_MS = 10_000;

/**
 * Whether the front-end's clone would make a network namespace (bootstrap.c bootstrap_is_direct): a new
 * one, with nothing to join first, no user namespace (it would own the network one) and no time namespace.
 */
export function wantsReadyNetns(plan: LaunchPlan): boolean {
  return (plan.cloneFlags & CLONE.NEWNET) !== 0 && plan.join.length === 0 && !plan.newUserns && plan.timeOffsets === null;
}

export class NetnsPool {
  private readonly ready: { fd: number; madeAt: number }[] = [];
  private making = 0;
  /** when the kernel last refused one: no asking until RETRY_AFTER_MS later */
  private refusedAt: number | undefined;

  /**
   * maxAgeMs: a namespace older than this is not handed out (MAX_AGE_MS); retryAfterMs: the pause after a
   * refusal (RETRY_AFTER_MS); now, make: the clock and the maker (the addon's newNetns: the fd or -errno),
   * replaced in unit tests
   */
  constructor(private readonly opts: {
    maxAgeMs?: number; retryAfterMs?: number; now?: () => number; make?: () => Promise<number>;
  } = {}) {}

  private now(): number {
    return (this.opts.now ?? performance.now.bind(performance))();
  }

  /** A ready namespace's descriptor, now the caller's to close, or -1 when none is ready and fresh. */
  take(): number {
    let fd = -1;
    while (fd < 0 && this.ready.length) {
      const got = this.ready.shift()!;
      if (this.now() - got.madeAt <= (this.opts.maxAgeMs ?? MAX_AGE_MS)) fd = got.fd;
      else fs.closeSync(got.fd);
    }
    this.fill();
    return fd;
  }

  private pausedAfterRefusal(): boolean {
    if (this.refusedAt === undefined) return false;
    if (this.now() - this.refusedAt < (this.opts.retryAfterMs ?? RETRY_AFTER_MS)) return true;
    this.refusedAt = undefined;
    return false;
  }

  /** Makes namespaces up to SIZE, in the background. */
  private fill(): void {
    const make = this.opts.make ?? (() => native().newNetns());
    while (!this.pausedAfterRefusal() && this.ready.length + this.making < SIZE) {
      this.making++;
      make().then((fd) => {
        this.making--;
        if (fd < 0) this.refusedAt = this.now();
        else this.ready.push({ fd, madeAt: this.now() });
      }, () => {
        this.making--;
        this.refusedAt = this.now();
      });
    }
  }
}

/** The server's pool (one process, one network namespace: the server refuses clients from another). */
export const netnsPool = new NetnsPool();
