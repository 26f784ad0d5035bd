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
  /** routes that passed import: prefix -> source id -> route */
  private readonly candidates = new Map<string, Map<string, Route>>();
  /** Loc-RIB */
  private readonly loc = new Map<string, Route>();

  constructor(private readonly importRoute: ImportFn) {}

  /** Applies received announcements and withdrawals from one source; returns the Loc-RIB changes. */
  update(sourceId: string, announced: readonly Route[], withdrawn: readonly string[]): BestChange[] {
    let inMap = this.adjIn.get(sourceId);
    if (!inMap) this.adjIn.set(sourceId, (inMap = new Map()));
    const touched = new Set<string>();
    for (const p of withdrawn) {
      inMap.delete(p);
      this.candidates.get(p)?.delete(sourceId);
      touched.add(p);
    }
    for (const r of announced) {
      inMap.set(r.prefix, r);
      this.place(sourceId, r);
      touched.add(r.prefix);
    }
    return this.decide(touched);
  }

  /** Session lost without graceful restart, or source removed: all its routes go. */
  removeSource(sourceId: string): BestChange[] {
    const inMap = this.adjIn.get(sourceId);
    if (!inMap) return [];
    this.adjIn.delete(sourceId);
    const touched = new Set(inMap.keys());
    for (const p of touched) this.candidates.get(p)?.delete(sourceId);
    return this.decide(touched);
  }

  /** RFC 4724 §4.2: the peer restarts: keep its routes in use, but mark them stale. */
  markStale(sourceId: string): void {
    for (const r of this.adjIn.get(sourceId)?.values() ?? []) r.stale = true;
    for (const m of this.candidates.values()) { const r = m.get(sourceId); if (r) r.stale = true; }
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
    const touched = new Set<string>();
    for (const [id, inMap] of this.adjIn) {
      if (sourceId !== undefined && id !== sourceId) continue;
      for (const r of inMap.values()) { this.place(id, r); touched.add(r.prefix); }
    }
    return this.decide(touched);
  }

  best(prefix: string): Route | undefined { return this.loc.get(prefix); }
  bestRoutes(): Route[] { return [...this.loc.values()]; }
  /** every accepted route, best or not (for `berth bgp routes --all`) */
  allRoutes(): Route[] { return [...this.candidates.values()].flatMap((m) => [...m.values()]); }
  received(sourceId: string): Route[] { return [...(this.adjIn.get(sourceId)?.values() ?? [])]; }

  private place(sourceId: string, received: Route): void {
    const accepted = this.importRoute(received);
    let m = this.candidates.get(received.prefix);
    if (accepted) {
      if (!m) this.candidates.set(received.prefix, (m = new Map()));
      m.set(sourceId, { ...accepted, stale: received.stale });
    } else m?.delete(sourceId);
  }

  private decide(prefixes: Iterable<string>): BestChange[] {
    const changes: BestChange[] = [];
    for (const p of prefixes) {
      const m = this.candidates.get(p);
      if (m && m.size === 0) this.candidates.delete(p);
      const best = m && m.size ? selectBest(m.values()) : undefined;
      const previous = this.loc.get(p);
      if (best === previous) continue;
      if (best) this.loc.set(p, best);
      else this.loc.delete(p);
      changes.push({ prefix: p, best, previous });
    }
    return changes;
  }
}
