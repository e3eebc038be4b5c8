/**
 * The RIB: an Adj-RIB-In per peer, the locally originated paths, and the
 * Loc-RIB (best path per prefix) kept current incrementally: every change
 * re-runs the decision process for the prefixes it touched only, and
 * returns them so the speaker re-exports and the backend re-installs just
 * those.
 *
 * Every path a peer sends is judged on arrival: a path whose AS_PATH holds
 * our own AS (a loop, RFC 4271 §9.1.2) or that the import policy refuses
 * stays in the peer's Adj-RIB-In marked `rejected` with its reason (so it
 * is counted, its memory is bounded by max-prefix like any other path, and
 * it is re-judged when the policy's context changes), but never competes in
 * the decision process. A gracefully restarting peer's paths are marked
 * stale and kept until its End-of-RIB or the restart time (RFC 4724 §4.2).
 */
import { prefixKey, type Path } from './path';
import { asPathContains, selectBest, type Candidate, type RouteSource } from './decision';
import type { RejectReason } from './import-policy';
import type { Prefix } from './codec';

/** The import policy as the RIB sees it: why a peer's path may not be used, or undefined. */
export type Judge = (source: Extract<RouteSource, { kind: 'peer' }>, path: Path) => RejectReason | undefined;

/** Per-peer path counts: received = accepted + every rejected reason. */
export interface PeerCounts {
  received: number;
  accepted: number;
  rejected: Partial<Record<RejectReason, number>>;
}

/** A path that was newly rejected by an UPDATE (for a log line once per prefix and reason). */
export interface Rejection {
  prefix: string;
  reason: RejectReason;
  nextHop: string;
}

const LOCAL = '';

/** The source key a candidate is filed under: LOCAL for ours, else the peer's address. */
function sourceKey(c: Candidate): string {
  return c.source.kind === 'peer' ? c.source.peerAddress : LOCAL;
}

/** Result of applying an UPDATE. */
export interface ApplyResult {
  /** Prefixes whose best path may have changed. */
  changed: string[];
  /** Paths refused as AS_PATH loops. */
  loops: number;
  /** Paths newly rejected (not rejected for the same reason before). */
  rejected: Rejection[];
}

/** Adj-RIBs-In, local paths and the Loc-RIB; every mutator returns the prefix keys whose best path may have changed. */
export class Rib {
  /**
   * prefix key → its candidates, at most one per source (sourceKey). An
   * array, not a Map: nearly every prefix has one or two, and with 100 000
   * learned prefixes a Map each was ~35 MB of the heap.
   */
  private readonly byPrefix = new Map<string, Candidate[]>();
  /** peer address → prefix keys it announced */
  private readonly byPeer = new Map<string, Set<string>>();
  private readonly best = new Map<string, Candidate>();
  private readonly sources = new Map<string, Extract<RouteSource, { kind: 'peer' }>>();
  private readonly counts = new Map<string, PeerCounts>();

  constructor(private readonly localAsn: number, private readonly judge: Judge = () => undefined) {}

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
    const rejected: Rejection[] = [];
    let loops = 0;
    for (const p of withdrawn) changed.push(...this.remove(peer, prefixKey(p)));
    for (const p of announced) {
      const key = prefixKey(p.prefix);
      const reason = this.verdict(source, p);
      if (reason === 'as-loop') loops++;
      const c: Candidate = { path: p, source };
      if (reason) {
        c.rejected = reason;
        if (this.candidate(key, peer)?.rejected !== reason) rejected.push({ prefix: key, reason, nextHop: p.nextHop });
      }
      changed.push(...this.put(peer, key, c));
    }
    return { changed, loops, rejected };
  }

  /**
   * Judge every learned path again (the policy's context changed: a lease
   * came or went, the node's addresses changed). Returns the prefixes whose
   * best path may have changed.
   */
  reimport(): string[] {
    const changed: string[] = [];
    for (const [key, list] of this.byPrefix) {
      let touched = false;
      for (const c of list) {
        const src = sourceKey(c);
        if (src === LOCAL || c.source.kind !== 'peer') continue;
        const reason = this.verdict(c.source, c.path);
        if (reason === c.rejected) continue;
        this.count(src, c, -1);
        if (reason) c.rejected = reason;
        else delete c.rejected;
        this.count(src, c, 1);
        touched = true;
      }
      if (touched) changed.push(...this.decide(key, true));
    }
    return changed;
  }

  /** Path counts of one peer (zero when it sent nothing). */
  peerCounts(peer: string): PeerCounts {
    const c = this.counts.get(peer);
    return c ? { received: c.received, accepted: c.accepted, rejected: { ...c.rejected } } : { received: 0, accepted: 0, rejected: {} };
  }

  private verdict(source: Extract<RouteSource, { kind: 'peer' }>, p: Path): RejectReason | undefined {
    if (asPathContains(p.attrs.asPath, this.localAsn)) return 'as-loop';
    return this.judge(source, p);
  }

  private count(src: string, c: Candidate, delta: 1 | -1): void {
    if (src === LOCAL) return;
    let n = this.counts.get(src);
    if (!n) {
      n = { received: 0, accepted: 0, rejected: {} };
      this.counts.set(src, n);
    }
    n.received += delta;
    if (c.rejected) {
      const left = (n.rejected[c.rejected] ?? 0) + delta;
      if (left > 0) n.rejected[c.rejected] = left;
      else delete n.rejected[c.rejected];
    } else {
      n.accepted += delta;
    }
  }

  /**
   * Mark `peer`'s paths of the given families stale (its session dropped and
   * its graceful restart capability listed those families); returns how many.
   */
  markStale(peer: string, afis: ReadonlySet<4 | 6>): number {
    let n = 0;
    for (const key of this.byPeer.get(peer) ?? []) {
      const c = this.candidate(key, peer);
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
      if (!this.candidate(key, peer)?.stale) changed.push(...this.remove(peer, key));
    }
    return changed;
  }

  /** Remove `peer`'s stale paths (of one family, or all). */
  sweepStale(peer: string, afi?: 4 | 6): string[] {
    const changed: string[] = [];
    for (const key of [...(this.byPeer.get(peer) ?? [])]) {
      const c = this.candidate(key, peer);
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
    this.counts.delete(peer);
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
    for (const [key, list] of this.byPrefix) {
      const best = this.best.get(key);
      for (const c of list) if (sourceKey(c) !== LOCAL) yield { candidate: c, best: c === best };
    }
  }

  private candidate(key: string, src: string): Candidate | undefined {
    const list = this.byPrefix.get(key);
    if (list === undefined) return undefined;
    for (const c of list) if (sourceKey(c) === src) return c;
    return undefined;
  }

  private put(src: string, key: string, c: Candidate): string[] {
    const list = this.byPrefix.get(key);
    const at = list === undefined ? -1 : list.findIndex((x) => sourceKey(x) === src);
    // A new list is made at its exact size: [] then push() would reserve room for 17.
    if (list === undefined) this.byPrefix.set(key, [c]);
    else if (at >= 0) {
      this.count(src, list[at]!, -1);
      list[at] = c;
    } else {
      list.push(c);
    }
    this.count(src, c, 1);
    let keys = this.byPeer.get(src);
    if (!keys) {
      keys = new Set();
      this.byPeer.set(src, keys);
    }
    keys.add(key);
    return this.decide(key);
  }

  private remove(src: string, key: string): string[] {
    const list = this.byPrefix.get(key);
    const at = list === undefined ? -1 : list.findIndex((x) => sourceKey(x) === src);
    if (list === undefined || at < 0) return [];
    const old = list[at]!;
    list.splice(at, 1);
    this.count(src, old, -1);
    this.byPeer.get(src)?.delete(key);
    if (list.length === 0) this.byPrefix.delete(key);
    return this.decide(key);
  }

  private decide(key: string, force = false): string[] {
    const list = this.byPrefix.get(key);
    const next = list ? selectBest(list) : undefined;
    const prev = this.best.get(key);
    if (next) this.best.set(key, next);
    else this.best.delete(key);
    // A replaced candidate object counts as a change even from the same source (new attributes).
    return prev === next && !force ? [] : [key];
  }
}
