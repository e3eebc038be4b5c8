/**
 * The RIB: an Adj-RIB-In per peer, the locally originated paths, and the
 * Loc-RIB (best path per prefix) kept current incrementally: every change
 * re-runs the decision process for the prefixes it touched only, and
 * returns them so the speaker re-exports and the backend re-installs just
 * those.
 *
 * Paths whose AS_PATH holds our own AS are dropped on arrival (a loop,
 * RFC 4271 §9.1.2). A gracefully restarting peer's paths are marked stale
 * and kept until its End-of-RIB or the restart time (RFC 4724 §4.2).
 */
import { prefixKey, type Path } from './path';
import { asPathContains, selectBest, type Candidate, type RouteSource } from './decision';
import type { Prefix } from './codec';

const LOCAL = '';

/** Result of applying an UPDATE. */
export interface ApplyResult {
  /** Prefixes whose best path may have changed. */
  changed: string[];
  /** Paths refused as AS_PATH loops. */
  loops: number;
}

/** Adj-RIBs-In, local paths and the Loc-RIB; every mutator returns the prefix keys whose best path may have changed. */
export class Rib {
  /** prefix key → source key (LOCAL for ours, else the peer address) → candidate */
  private readonly byPrefix = new Map<string, Map<string, Candidate>>();
  /** peer address → prefix keys it announced */
  private readonly byPeer = new Map<string, Set<string>>();
  private readonly best = new Map<string, Candidate>();
  private readonly sources = new Map<string, RouteSource>();

  constructor(private readonly localAsn: number) {}

  /** Replace the locally originated paths. */
  setLocal(paths: readonly Path[]): string[] {
    const want = new Map(paths.map((p) => [prefixKey(p.prefix), p]));
    const changed: string[] = [];
    for (const key of this.byPeer.get(LOCAL) ?? []) {
      if (!want.has(key)) changed.push(...this.remove(LOCAL, key));
    }
    for (const [key, p] of want) changed.push(...this.put(LOCAL, key, { path: p, source: { kind: 'local' } }));
    return changed;
  }

  /** A peer's session came up (or its identity changed): later paths from it carry this source. */
  peerUp(source: Extract<RouteSource, { kind: 'peer' }>): void {
    this.sources.set(source.peerAddress, source);
  }

  /** Apply an UPDATE from `peer`: withdrawals, then announcements (a loop is a withdrawal). */
  apply(peer: string, announced: readonly Path[], withdrawn: readonly Prefix[]): ApplyResult {
    const source = this.sources.get(peer);
    if (!source) throw new Error(`RIB: UPDATE from ${peer} before its session came up`);
    const changed: string[] = [];
    let loops = 0;
    for (const p of withdrawn) changed.push(...this.remove(peer, prefixKey(p)));
    for (const p of announced) {
      const key = prefixKey(p.prefix);
      if (asPathContains(p.attrs.asPath, this.localAsn)) {
        loops++;
        changed.push(...this.remove(peer, key));
        continue;
      }
      changed.push(...this.put(peer, key, { path: p, source }));
    }
    return { changed, loops };
  }

  /**
   * Mark `peer`'s paths of the given families stale (its session dropped and
   * its graceful restart capability listed those families); returns how many.
   */
  markStale(peer: string, afis: ReadonlySet<4 | 6>): number {
    let n = 0;
    for (const key of this.byPeer.get(peer) ?? []) {
      const c = this.byPrefix.get(key)?.get(peer);
      if (c && afis.has(c.path.prefix.afi)) {
        c.stale = true;
        n++;
      }
    }
    return n;
  }

  /** Remove `peer`'s paths that are NOT stale (after markStale: the families it does not preserve). */
  dropFresh(peer: string): string[] {
    const changed: string[] = [];
    for (const key of [...(this.byPeer.get(peer) ?? [])]) {
      if (!this.byPrefix.get(key)?.get(peer)?.stale) changed.push(...this.remove(peer, key));
    }
    return changed;
  }

  /** Remove `peer`'s stale paths (of one family, or all). */
  sweepStale(peer: string, afi?: 4 | 6): string[] {
    const changed: string[] = [];
    for (const key of [...(this.byPeer.get(peer) ?? [])]) {
      const c = this.byPrefix.get(key)?.get(peer);
      if (c?.stale && (afi === undefined || c.path.prefix.afi === afi)) changed.push(...this.remove(peer, key));
    }
    return changed;
  }

  /** Remove every path of `peer` (session down without graceful restart, or peer deconfigured). */
  dropPeer(peer: string): string[] {
    const changed: string[] = [];
    for (const key of [...(this.byPeer.get(peer) ?? [])]) changed.push(...this.remove(peer, key));
    return changed;
  }

  /** Forget a peer entirely (deconfigured). */
  forgetPeer(peer: string): string[] {
    const changed = this.dropPeer(peer);
    this.sources.delete(peer);
    return changed;
  }

  /** Best path per prefix. */
  bestPaths(): IterableIterator<Candidate> {
    return this.best.values();
  }

  bestFor(key: string): Candidate | undefined {
    return this.best.get(key);
  }

  /** Number of paths `peer` gave us (stale included). */
  received(peer: string): number {
    return this.byPeer.get(peer)?.size ?? 0;
  }

  /** Every path in the Adj-RIBs-In (not the local ones), with whether it is the best. */
  *learned(): IterableIterator<{ candidate: Candidate; best: boolean }> {
    for (const [key, m] of this.byPrefix) {
      const best = this.best.get(key);
      for (const [src, c] of m) if (src !== LOCAL) yield { candidate: c, best: c === best };
    }
  }

  private put(src: string, key: string, c: Candidate): string[] {
    let m = this.byPrefix.get(key);
    if (!m) {
      m = new Map();
      this.byPrefix.set(key, m);
    }
    m.set(src, c);
    let keys = this.byPeer.get(src);
    if (!keys) {
      keys = new Set();
      this.byPeer.set(src, keys);
    }
    keys.add(key);
    return this.decide(key);
  }

  private remove(src: string, key: string): string[] {
    const m = this.byPrefix.get(key);
    if (!m || !m.delete(src)) return [];
    this.byPeer.get(src)?.delete(key);
    if (m.size === 0) this.byPrefix.delete(key);
    return this.decide(key);
  }

  private decide(key: string): string[] {
    const m = this.byPrefix.get(key);
    const next = m ? selectBest(m.values()) : undefined;
    const prev = this.best.get(key);
    if (next) this.best.set(key, next);
    else this.best.delete(key);
    // A replaced candidate object counts as a change even from the same source (new attributes).
    return prev === next ? [] : [key];
  }
}
