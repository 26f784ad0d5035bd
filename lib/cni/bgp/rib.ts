// Adj-RIB-In (per source, as received) and Loc-RIB (the best route per prefix), RFC 4271 §3.2 and §9.1.
// Import policy runs between them: the RIB asks `importRoute` for each received route.
import type { Afi } from './codec/constants';
import { selectBest } from './decision';
import type { Route } from './route';

/** One Loc-RIB change: `best` undefined means the prefix is gone; `previous` undefined means it is new. */
export interface BestChange {
  prefix: string;
  best?: Route;
  previous?: Route;
}

/** Import policy plus loop checks: the accepted (maybe modified) route, or undefined to drop it. */
export type ImportFn = (route: Route) => Route | undefined;

export class Rib {
  /** Adj-RIB-In: source id -> prefix -> route as received */
  private readonly adjIn = new Map<string, Map<string, Route>>();
  /**
   * routes that passed import, one per source: the route itself when there is one (the common case of a
   * full table: 100,000 prefixes), a short array when several sources have the prefix
   */
  private readonly candidates = new Map<string, Route | Route[]>();
  /** Loc-RIB */
  private readonly loc = new Map<string, Route>();
  /** Adj-RIB-In sizes per source, indexed by AFI (for max-prefix without walking the table) */
  private readonly counts = new Map<string, number[]>();
  /** routes per source that passed import (status without walking the table) */
  private readonly acceptedCounts = new Map<string, number>();

  constructor(private readonly importRoute: ImportFn) {}

  /** Applies received announcements and withdrawals from one source; returns the Loc-RIB changes. */
  update(sourceId: string, announced: readonly Route[], withdrawn: readonly string[]): BestChange[] {
    let inMap = this.adjIn.get(sourceId);
    if (!inMap) this.adjIn.set(sourceId, (inMap = new Map()));
    let count = this.counts.get(sourceId);
    if (!count) this.counts.set(sourceId, (count = [0, 0, 0]));
    // a prefix may be listed twice (withdrawn and announced): decide() handles it once it is settled
    const touched: string[] = [];
    for (const p of withdrawn) {
      if (inMap.delete(p)) count[p.includes(':') ? 2 : 1]--;
      this.unplace(p, sourceId);
      touched.push(p);
    }
    for (const r of announced) {
      if (!inMap.has(r.prefix)) count[r.afi]++;
      inMap.set(r.prefix, r);
      this.place(sourceId, r);
      touched.push(r.prefix);
    }
    return this.decide(touched);
  }

  /** Session lost without graceful restart, or source removed: all its routes go. */
  removeSource(sourceId: string): BestChange[] {
    const inMap = this.adjIn.get(sourceId);
    if (!inMap) return [];
    this.adjIn.delete(sourceId);
    this.counts.delete(sourceId);
    const touched = [...inMap.keys()];
    for (const p of touched) this.unplace(p, sourceId);
    return this.decide(touched);
  }

  /** RFC 4724 §4.2 (all families) and RFC 7313 §4.2 (one): keep the source's routes in use, but mark them stale. */
  markStale(sourceId: string, afi?: Afi): void {
    const inMap = this.adjIn.get(sourceId);
    if (!inMap) return;
    for (const r of inMap.values()) {
      if (afi !== undefined && r.afi !== afi) continue;
      r.stale = true;
      // the accepted copy, when import policy made one
      const c = this.candidatesOf(r.prefix).find((x) => x.source.id === sourceId);
      if (c) c.stale = true;
    }
  }

  /** RFC 4724 §4.2: End-of-RIB (one family) or restart time over (all families): stale routes go. */
  flushStale(sourceId: string, afi?: Afi): BestChange[] {
    const inMap = this.adjIn.get(sourceId);
    if (!inMap) return [];
    const gone: string[] = [];
    for (const r of inMap.values()) if (r.stale && (afi === undefined || r.afi === afi)) gone.push(r.prefix);
    return this.update(sourceId, [], gone);
  }

  /** Runs import again for every route (after an import policy change). */
  reimport(sourceId?: string): BestChange[] {
    const touched: string[] = [];
    for (const [id, inMap] of this.adjIn) {
      if (sourceId !== undefined && id !== sourceId) continue;
      for (const r of inMap.values()) { this.place(id, r); touched.push(r.prefix); }
    }
    return this.decide(touched);
  }

  /** how many prefixes of one family the source has in its Adj-RIB-In */
  receivedCount(sourceId: string, afi?: Afi): number {
    const c = this.counts.get(sourceId);
    return c === undefined ? 0 : afi === undefined ? c[1] + c[2] : c[afi];
  }

  /** how many of the source's routes passed import */
  acceptedCount(sourceId: string): number { return this.acceptedCounts.get(sourceId) ?? 0; }

  /** Loc-RIB without a copy (for consumers that walk it once) */
  bestIter(): IterableIterator<Route> { return this.loc.values(); }

  best(prefix: string): Route | undefined { return this.loc.get(prefix); }
  bestRoutes(): Route[] { return [...this.loc.values()]; }
  /** every accepted route, best or not (for `berth bgp routes --all`) */
  allRoutes(): Route[] { return [...this.candidates.values()].flat(); }
  received(sourceId: string): Route[] { return [...(this.adjIn.get(sourceId)?.values() ?? [])]; }

  private candidatesOf(prefix: string): readonly Route[] {
    const c = this.candidates.get(prefix);
    return c === undefined ? [] : Array.isArray(c) ? c : [c];
  }

  /** Runs import on a received route and puts the result (or nothing) in the source's candidate slot. */
  private place(sourceId: string, received: Route): void {
    const accepted = this.importRoute(received);
    if (!accepted) { this.unplace(received.prefix, sourceId); return; }
    const r = accepted.stale === received.stale ? accepted : { ...accepted, stale: received.stale };
    const c = this.candidates.get(received.prefix);
    if (c === undefined || (!Array.isArray(c) && c.source.id === sourceId)) {
      if (c === undefined) this.countAccepted(sourceId, 1);
      this.candidates.set(received.prefix, r);
      return;
    }
    const list = Array.isArray(c) ? c : [c];
    const i = list.findIndex((x) => x.source.id === sourceId);
    if (i >= 0) list[i] = r;
    else { list.push(r); this.countAccepted(sourceId, 1); }
    if (list !== c) this.candidates.set(received.prefix, list);
  }

  private unplace(prefix: string, sourceId: string): void {
    const c = this.candidates.get(prefix);
    if (c === undefined) return;
    if (!Array.isArray(c)) {
      if (c.source.id === sourceId) { this.candidates.delete(prefix); this.countAccepted(sourceId, -1); }
      return;
    }
    const i = c.findIndex((x) => x.source.id === sourceId);
    if (i < 0) return;
    c.splice(i, 1);
    this.countAccepted(sourceId, -1);
    if (c.length === 1) this.candidates.set(prefix, c[0]);
  }

  private countAccepted(sourceId: string, d: number): void {
    const n = (this.acceptedCounts.get(sourceId) ?? 0) + d;
    if (n) this.acceptedCounts.set(sourceId, n);
    else this.acceptedCounts.delete(sourceId);
  }

  private decide(prefixes: readonly string[]): BestChange[] {
    const changes: BestChange[] = [];
    for (const p of prefixes) {
      const c = this.candidates.get(p);
      const best = c === undefined || !Array.isArray(c) ? c : selectBest(c);
      const previous = this.loc.get(p);
      if (best === previous) continue;
      if (best) this.loc.set(p, best);
      else this.loc.delete(p);
      changes.push({ prefix: p, best, previous });
    }
    return changes;
  }
}
