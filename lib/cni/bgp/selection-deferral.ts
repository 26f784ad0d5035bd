// RFC 4724 §4.1, the Restarting Speaker's side: after our restart, route selection for a family waits
// until every peer we wait for sent End-of-RIB for it, or the Selection_Deferral_Timer ran out. Until
// then the family's best routes reach neither the FIB nor the peers (the kernel keeps what the previous
// run installed, and peers keep our routes stale), so no partial table is installed or advertised.
// Who is waited for: every configured peer until its OPEN tells otherwise (as BIRD's graceful-restart
// locks: a peer whose session comes up late is still waited for); then not a peer without the
// graceful-restart capability, nor one with its Restart State bit set (it restarts too and waits for
// our End-of-RIB), nor one that did not negotiate the family. Plain state and one timer: no I/O.
import { AFI, type Afi } from './codec/constants';

export type SelectionEnd = 'end-of-rib' | 'timer';

/** What a peer's OPEN says that matters here. */
export interface PeerOpenView {
  /** it advertised the graceful-restart capability */
  gracefulRestart: boolean;
  /** the Restart State (R) bit of that capability */
  restarting: boolean;
  /** families negotiated with it */
  families: readonly Afi[];
}

export interface FamilyDeferral {
  family: 'ipv4' | 'ipv6';
  /** peers whose End-of-RIB is still awaited */
  waitingFor: string[];
  /** seconds until the timer ends the deferral anyway */
  secondsLeft: number;
}

export interface DeferralTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(t: unknown): void;
}

const realTimers: DeferralTimers = {
  now: Date.now,
  setTimeout: (fn, ms) => { const t = setTimeout(fn, ms); t.unref(); return t; },
  clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout),
};

const familyName = (afi: Afi): 'ipv4' | 'ipv6' => (afi === AFI.IPV4 ? 'ipv4' : 'ipv6');

export class SelectionDeferral {
  /** per deferred family, the peers still awaited; a family leaves the map when its selection is done */
  private readonly waiting = new Map<Afi, Set<string>>();
  private timer?: unknown;
  private deadline = 0;
  private started = false;

  constructor(
    families: readonly Afi[],
    private readonly seconds: number,
    private readonly onDone: (afi: Afi, why: SelectionEnd) => void,
    private readonly timers: DeferralTimers = realTimers,
  ) {
    for (const f of families) this.waiting.set(f, new Set());
  }

  /** Starts the timer and ends at once the families nobody is awaited for. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.deadline = this.timers.now() + this.seconds * 1000;
    this.timer = this.timers.setTimeout(() => this.expire(), this.seconds * 1000);
    for (const afi of [...this.waiting.keys()]) this.check(afi);
  }

  /** A configured peer: awaited in every deferred family until its OPEN says otherwise. */
  addPeer(id: string): void {
    for (const set of this.waiting.values()) set.add(id);
  }

  /** A peer removed or shut down administratively: no longer awaited. */
  removePeer(id: string): void {
    for (const [afi, set] of this.waiting) if (set.delete(id)) this.check(afi);
  }

  /** The peer's session is Established: keep awaiting it only where it will send an End-of-RIB we need. */
  established(id: string, open: PeerOpenView): void {
    for (const [afi, set] of this.waiting) {
      if (!set.has(id)) continue;
      if (open.gracefulRestart && !open.restarting && open.families.includes(afi)) continue;
      set.delete(id);
      this.check(afi);
    }
  }

  endOfRib(id: string, afi: Afi): void {
    if (this.waiting.get(afi)?.delete(id)) this.check(afi);
  }

  /** Selection for this family is still deferred. */
  deferred(afi: Afi): boolean {
    return this.waiting.has(afi);
  }

  /** Something is still deferred. */
  get active(): boolean {
    return this.waiting.size > 0;
  }

  status(): FamilyDeferral[] {
    const left = Math.max(0, Math.ceil((this.deadline - this.timers.now()) / 1000));
    return [...this.waiting].map(([afi, set]) => ({ family: familyName(afi), waitingFor: [...set].sort(), secondsLeft: this.started ? left : this.seconds }));
  }

  /** Stops the timer without ending anything (the speaker stops). */
  close(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private check(afi: Afi): void {
    const set = this.waiting.get(afi);
    if (!this.started || !set || set.size > 0) return;
    this.finish(afi, 'end-of-rib');
  }

  private expire(): void {
    this.timer = undefined;
    for (const afi of [...this.waiting.keys()]) this.finish(afi, 'timer');
  }

  private finish(afi: Afi, why: SelectionEnd): void {
    this.waiting.delete(afi);
    if (this.waiting.size === 0) this.close();
    this.onDone(afi, why);
  }
}
