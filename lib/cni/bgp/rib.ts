// Adj-RIB-In (per source, as received) and Loc-RIB (the best route per prefix), RFC 4271 §3.2 and §9.1.
// Import policy runs between them: the RIB asks `importRoute` for each received route.
//
// Laid out for million-route tables: one Map entry per prefix, keyed by prefix-key.ts's number. In the
// common case (one source, and import keeps the route as received) the entry's value is that source's
// RoutePath, shared by every prefix of the same UPDATE: one object is then the Adj-RIB-In entry, the only
// candidate and the best route. A prefix with several sources, or whose route import changed or rejected,
// holds a Candidates record instead. The Routes handed out (best(), BestChange, the walks) are made on
// demand from the key and the path. With maxPaths > 1 a Candidates record also keeps its multipath set
// (ECMP, decision.ts multipathSet), and the best Route handed out carries it.
import type { Afi } from './codec/constants';
import { multipathSet, selectBest } from './decision';
import { keyPrefix, prefixKey, type PrefixKey } from './prefix-key';
import type { Route, RoutePath } from './route';

/**
 * One Loc-RIB change: `best` undefined means the prefix is gone; `previous` undefined means it is new.
 * `best.multipath` is the prefix's multipath set when it has more than one path.
 */
export interface BestChange {
  prefix: string;
  /** the RIB's key of `prefix` (prefix-key.ts), so consumers keyed the same way need not scan the text again */
  key?: PrefixKey;
  best?: Route;
  previous?: Route;
  /** the best path is the same, only its multipath set changed: nothing to tell peers, only the FIB */
  multipathOnly?: true;
}

/**
 * Import policy plus loop checks: the accepted (maybe modified) route, or undefined to drop it. It must not
 * keep the route it is given: updatePaths passes one object for all the prefixes of a path, changing its prefix.
 */
export type ImportFn = (route: Route) => Route | undefined;

/** The announcements of one UPDATE: prefixes that share one path. */
export interface PathAnnouncement {
  path: RoutePath;
  prefixes: readonly string[];
}

/** A prefix with several sources, or with one whose route import changed or rejected. */
class Candidates {
  /** as received, one per source */
  readonly received: RoutePath[] = [];
  /** what import made of received[i]: the same object when unchanged, undefined when rejected */
  readonly accepted: Array<RoutePath | undefined> = [];
  best: RoutePath | undefined;
  /** with maxPaths > 1: best and the paths equal to it, when there are more than one (the same array while it does not change) */
  multipath: RoutePath[] | undefined;
}

type Slot = RoutePath | Candidates;

interface SourceCounts {
  /** Adj-RIB-In size, indexed by AFI */
  received: number[];
  /** routes that passed import */
  accepted: number;
}

const bestOf = (s: Slot | undefined): RoutePath | undefined => (s instanceof Candidates ? s.best : s);
const multipathOf = (s: Slot | undefined): RoutePath[] | undefined => (s instanceof Candidates ? s.multipath : undefined);

function toRoute(prefix: string, p: RoutePath, multipath?: readonly RoutePath[]): Route {
  const r: Route = { prefix, afi: p.afi, attrs: p.attrs, source: p.source };
  if (p.linkLocalNextHop !== undefined) r.linkLocalNextHop = p.linkLocalNextHop;
  if (p.stale) r.stale = true;
  if (multipath) r.multipath = multipath;
  return r;
}

/** A change while an operation runs: paths, turned into Routes when it ends. */
interface PendingChange { key: PrefixKey; prefix: string; best?: RoutePath; previous?: RoutePath; paths?: RoutePath[]; previousPaths?: RoutePath[] }

/**
 * The Loc-RIB changes of one operation, one per prefix in the order first touched. A prefix touched twice
 * (withdrawn and announced again in one UPDATE) is compared with its state before the first touch.
 */
class ChangeLog {
  private readonly list: PendingChange[] = [];
  private seen?: Map<PrefixKey, PendingChange>;

  /** `repeats`: the operation may change one prefix twice (only then is a prefix looked up among the changes) */
  constructor(repeats: boolean) {
    if (repeats) this.seen = new Map();
  }

  /** From now on a prefix may change twice. */
  expectRepeats(): void {
    if (!this.seen) this.seen = new Map(this.list.map((c) => [c.key, c]));
  }

  note(
    key: PrefixKey, prefix: string | undefined, previous: RoutePath | undefined, best: RoutePath | undefined,
    previousPaths: RoutePath[] | undefined, paths: RoutePath[] | undefined,
  ): void {
    if (previous === best && previousPaths === paths) return;
    const had = this.seen?.get(key);
    if (had) { had.best = best; had.paths = paths; return; }
    const c: PendingChange = { key, prefix: prefix ?? keyPrefix(key), best, previous, paths, previousPaths };
    this.list.push(c);
    this.seen?.set(key, c);
  }

  result(): BestChange[] {
    const out: BestChange[] = [];
    for (const c of this.list) {
      if (c.best === c.previous && c.paths === c.previousPaths) continue; // touched again and back where it was
      const change: BestChange = { prefix: c.prefix, key: c.key, best: c.best && toRoute(c.prefix, c.best, c.paths), previous: c.previous && toRoute(c.prefix, c.previous, c.previousPaths) };
      if (c.best === c.previous) change.multipathOnly = true;
      out.push(change);
    }
    return out;
  }
}

export class Rib {
  private readonly table = new Map<PrefixKey, Slot>();
  /** per source: Adj-RIB-In sizes and how many passed import (max-prefix and status without walking the table) */
  private readonly counts = new Map<string, SourceCounts>();
  /** the path made for the last received route: the NLRI of one UPDATE share attributes and source */
  private lastPath?: RoutePath;

  /** `maxPaths`: the largest multipath set per prefix (1: the best path only) */
  constructor(private readonly importRoute: ImportFn, private readonly maxPaths = 1) {}

  /** Applies received announcements and withdrawals from one source; returns the Loc-RIB changes. */
  update(sourceId: string, announced: readonly Route[], withdrawn: readonly string[]): BestChange[] {
    const counts = this.countsOf(sourceId);
    // a source's second withdrawal of a prefix changes nothing, nor does its second announcement with the
    // same path: a prefix changes twice only when both come in one call, announcements differ in path, or
    // import made a copy (a new object each time)
    const log = new ChangeLog((announced.length > 0 && withdrawn.length > 0) || !onePath(announced));
    for (const p of withdrawn) this.put(prefixKey(p), p, sourceId, undefined, undefined, log, counts);
    for (const r of announced) {
      const path = this.pathOf(r);
      const accepted = this.accept(r, path);
      if (accepted !== path && accepted !== undefined) log.expectRepeats();
      this.put(prefixKey(r.prefix), r.prefix, sourceId, path, accepted, log, counts);
    }
    return log.result();
  }

  /** Like update(), for announcements grouped by path as an UPDATE carries them: no Route per prefix. */
  updatePaths(sourceId: string, announced: readonly PathAnnouncement[], withdrawn: readonly string[]): BestChange[] {
    const counts = this.countsOf(sourceId);
    const log = new ChangeLog(announced.length > 1 || (announced.length > 0 && withdrawn.length > 0));
    for (const p of withdrawn) this.put(prefixKey(p), p, sourceId, undefined, undefined, log, counts);
    for (const { path: given, prefixes } of announced) {
      const path: RoutePath = { afi: given.afi, attrs: given.attrs, linkLocalNextHop: given.linkLocalNextHop, source: given.source, stale: given.stale };
      // the route import sees: one object, its prefix set for each
      const route: Route = { prefix: '', ...path };
      for (const prefix of prefixes) {
        route.prefix = prefix;
        const accepted = this.accept(route, path);
        if (accepted !== path && accepted !== undefined) log.expectRepeats();
        this.put(prefixKey(prefix), prefix, sourceId, path, accepted, log, counts);
      }
    }
    return log.result();
  }

  /** Session lost without graceful restart, or source removed: all its routes go. */
  removeSource(sourceId: string): BestChange[] {
    const counts = this.counts.get(sourceId);
    if (!counts) return [];
    const log = new ChangeLog(false);
    for (const [key, slot] of this.table) if (receivedFrom(slot, sourceId)) this.put(key, undefined, sourceId, undefined, undefined, log, counts);
    this.counts.delete(sourceId);
    return log.result();
  }

  /** RFC 4724 §4.2 (all families) and RFC 7313 §4.2 (one): keep the source's routes in use, but mark them stale. */
  markStale(sourceId: string, afi?: Afi): void {
    // a path belongs to one source and one family: marking it marks every prefix that shares it
    const mark = (p: RoutePath | undefined): void => { if (p && p.source.id === sourceId && (afi === undefined || p.afi === afi)) p.stale = true; };
    for (const slot of this.table.values()) {
      if (!(slot instanceof Candidates)) { mark(slot); continue; }
      for (let i = 0; i < slot.received.length; i++) {
        if (slot.received[i].source.id !== sourceId) continue;
        mark(slot.received[i]);
        mark(slot.accepted[i]);
      }
    }
  }

  /** RFC 4724 §4.2: End-of-RIB (one family) or restart time over (all families): stale routes go. */
  flushStale(sourceId: string, afi?: Afi): BestChange[] {
    const counts = this.counts.get(sourceId);
    if (!counts) return [];
    const log = new ChangeLog(false);
    for (const [key, slot] of this.table) {
      const r = receivedFrom(slot, sourceId);
      if (r?.stale && (afi === undefined || r.afi === afi)) this.put(key, undefined, sourceId, undefined, undefined, log, counts);
    }
    return log.result();
  }

  /** Runs import again for every route (after an import policy change). */
  reimport(sourceId?: string): BestChange[] {
    const log = new ChangeLog(true);
    for (const [key, slot] of this.table) {
      // put() edits a Candidates record in place: walk a copy
      for (const r of slot instanceof Candidates ? [...slot.received] : [slot]) {
        if (sourceId !== undefined && r.source.id !== sourceId) continue;
        const prefix = keyPrefix(key);
        this.put(key, prefix, r.source.id, r, this.accept(toRoute(prefix, r), r), log, this.countsOf(r.source.id));
      }
    }
    return log.result();
  }

  /** how many prefixes of one family the source has in its Adj-RIB-In */
  receivedCount(sourceId: string, afi?: Afi): number {
    const c = this.counts.get(sourceId)?.received;
    return c === undefined ? 0 : afi === undefined ? c[1] + c[2] : c[afi];
  }

  /** how many of the source's routes passed import */
  acceptedCount(sourceId: string): number { return this.counts.get(sourceId)?.accepted ?? 0; }

  /** Loc-RIB, one route at a time (a full table is a million routes: no array of them) */
  *bestIter(): IterableIterator<Route> {
    for (const [key, slot] of this.table) {
      const b = bestOf(slot);
      if (b) yield toRoute(keyPrefix(key), b, multipathOf(slot));
    }
  }

  best(prefix: string): Route | undefined {
    const slot = this.table.get(prefixKey(prefix));
    const b = bestOf(slot);
    return b && toRoute(prefix, b, multipathOf(slot));
  }

  bestRoutes(): Route[] { return [...this.bestIter()]; }

  /** every accepted route, best or not, with whether it is the best (for `berth bgp routes --all`) */
  candidateRoutes(): Array<{ route: Route; best: boolean }> {
    const out: Array<{ route: Route; best: boolean }> = [];
    for (const [key, slot] of this.table) {
      const prefix = keyPrefix(key);
      if (!(slot instanceof Candidates)) { out.push({ route: toRoute(prefix, slot), best: true }); continue; }
      for (const a of slot.accepted) if (a) out.push({ route: toRoute(prefix, a, a === slot.best ? slot.multipath : undefined), best: a === slot.best });
    }
    return out;
  }

  /** every accepted route, best or not */
  allRoutes(): Route[] { return this.candidateRoutes().map((c) => c.route); }

  received(sourceId: string): Route[] {
    const out: Route[] = [];
    for (const [key, slot] of this.table) {
      const r = receivedFrom(slot, sourceId);
      if (r) out.push(toRoute(keyPrefix(key), r));
    }
    return out;
  }

  /** The path for a received route: the previous one when the route shares its attributes and source. */
  private pathOf(r: Route): RoutePath {
    const l = this.lastPath;
    if (l && l.attrs === r.attrs && l.source === r.source && l.afi === r.afi && l.linkLocalNextHop === r.linkLocalNextHop && !l.stale && !r.stale) return l;
    return (this.lastPath = { afi: r.afi, attrs: r.attrs, linkLocalNextHop: r.linkLocalNextHop, source: r.source, stale: r.stale });
  }

  /** Import for a received route: its own path when import keeps it, a copy when import changed it. */
  private accept(r: Route, path: RoutePath): RoutePath | undefined {
    const a = this.importRoute(r);
    if (a === undefined) return undefined;
    if (a === r) return path;
    return { afi: a.afi, attrs: a.attrs, linkLocalNextHop: a.linkLocalNextHop, source: a.source, stale: path.stale };
  }

  /**
   * Sets what one source has for one prefix: `received` as received and `accepted` after import (both
   * undefined: the source withdrew it). Keeps the counts and notes a change of the best route.
   */
  private put(
    key: PrefixKey, prefix: string | undefined, sourceId: string, received: RoutePath | undefined, accepted: RoutePath | undefined,
    log: ChangeLog, counts: SourceCounts,
  ): void {
    const slot = this.table.get(key);
    const previous = bestOf(slot);
    // taken before settle() changes a Candidates record in place
    const previousPaths = multipathOf(slot);
    let had: RoutePath | undefined;
    let hadAccepted = false;
    let next: Slot | undefined;
    if (!(slot instanceof Candidates)) {
      if (slot !== undefined && slot.source.id !== sourceId) {
        if (received === undefined) return; // withdrawing what this source never sent
        next = this.settle(candidates([slot, received], [slot, accepted]));
      } else {
        had = slot;
        hadAccepted = slot !== undefined;
        next = received === undefined ? undefined : accepted === received ? received : this.settle(candidates([received], [accepted]));
      }
    } else {
      let i = 0;
      while (i < slot.received.length && slot.received[i].source.id !== sourceId) i++;
      if (i < slot.received.length) {
        had = slot.received[i];
        hadAccepted = slot.accepted[i] !== undefined;
        if (received) { slot.received[i] = received; slot.accepted[i] = accepted; } else { slot.received.splice(i, 1); slot.accepted.splice(i, 1); }
      } else if (received) {
        slot.received.push(received);
        slot.accepted.push(accepted);
      } else return;
      next = this.settle(slot);
    }
    const dReceived = (received ? 1 : 0) - (had ? 1 : 0);
    if (dReceived) counts.received[(received ?? had)!.afi] += dReceived;
    counts.accepted += (accepted ? 1 : 0) - (hadAccepted ? 1 : 0);
    if (next === undefined) { if (slot !== undefined) this.table.delete(key); } else if (next !== slot) this.table.set(key, next);
    log.note(key, prefix, previous, bestOf(next), previousPaths, multipathOf(next));
  }

  /** The slot a Candidates record becomes: nothing, the single path again, or itself with its best (and multipath set) chosen. */
  private settle(c: Candidates): Slot | undefined {
    if (c.received.length === 0) return undefined;
    if (c.received.length === 1 && c.accepted[0] === c.received[0]) return c.received[0];
    const accepted: RoutePath[] = [];
    for (const a of c.accepted) if (a) accepted.push(a);
    c.best = selectBest(accepted);
    const set = c.best && this.maxPaths > 1 ? multipathSet(c.best, accepted, this.maxPaths) : undefined;
    // the same array while the set stays the same, so a change is one comparison of references; a copy
    // of exact size (the grown one keeps spare room: 100+ bytes a prefix at a million prefixes)
    if (!set || set.length < 2) c.multipath = undefined;
    else if (!c.multipath || !sameArray(set, c.multipath)) c.multipath = set.slice();
    return c;
  }

  private countsOf(sourceId: string): SourceCounts {
    let c = this.counts.get(sourceId);
    if (!c) this.counts.set(sourceId, (c = { received: [0, 0, 0], accepted: 0 }));
    return c;
  }
}

function onePath(routes: readonly Route[]): boolean {
  for (let i = 1; i < routes.length; i++) {
    const a = routes[0], b = routes[i];
    if (a.attrs !== b.attrs || a.source !== b.source || a.afi !== b.afi || a.linkLocalNextHop !== b.linkLocalNextHop || a.stale !== b.stale) return false;
  }
  return true;
}

function candidates(received: RoutePath[], accepted: Array<RoutePath | undefined>): Candidates {
  const c = new Candidates();
  c.received.push(...received);
  c.accepted.push(...accepted);
  return c;
}

/** The route one source sent for a slot's prefix, if any. */
function receivedFrom(slot: Slot, sourceId: string): RoutePath | undefined {
  if (!(slot instanceof Candidates)) return slot.source.id === sourceId ? slot : undefined;
  for (const r of slot.received) if (r.source.id === sourceId) return r;
  return undefined;
}

function sameArray<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
