/**
 * The BGP decision process (RFC 4271 §9.1.2.2), pure: which of several
 * paths to one prefix is best. Locally originated paths always win (they
 * are this node's own subnets); then, in order: highest LOCAL_PREF, shortest
 * AS_PATH, lowest ORIGIN, lowest MED (only between paths from the same
 * neighbouring AS, as the RFC says), eBGP over iBGP, lowest BGP identifier
 * of the sender, lowest peer address.
 */
import { asPathLength, type AsPathSegment } from './codec';
import type { RejectReason } from './import-policy';
import type { Path } from './path';

/** Where a path came from. */
export type RouteSource =
  | { kind: 'local' }
  | { kind: 'peer'; peerAddress: string; peerAsn: number; peerBgpId: string; ebgp: boolean };

/** A path competing for its prefix. */
export interface Candidate {
  path: Path;
  source: RouteSource;
  /** Kept from a gracefully restarting peer until its End-of-RIB (RFC 4724). */
  stale?: boolean;
  /** Kept in the Adj-RIB-In (counted, re-judged when the policy context changes) but never selected. */
  rejected?: RejectReason;
}

/** LOCAL_PREF when the path has none (RFC 4271 leaves the default to the operator; 100 is universal). */
export const DEFAULT_LOCAL_PREF = 100;

function neighbourAs(path: readonly AsPathSegment[] | undefined): number | undefined {
  const first = path?.[0];
  return first && first.type === 'sequence' ? first.asns[0] : undefined;
}

function ipKey(ip: string): string {
  if (ip.includes('.')) return ip.split('.').map((o) => o.padStart(3, '0')).join('.');
  return ip;
}

/** Negative when `a` is better than `b`, positive when worse, 0 only for the same source. */
export function compareCandidates(a: Candidate, b: Candidate): number {
  const sa = a.source;
  const sb = b.source;
  if (sa.kind === 'local' || sb.kind === 'local') return (sa.kind === 'local' ? 0 : 1) - (sb.kind === 'local' ? 0 : 1);
  const pa = a.path.attrs;
  const pb = b.path.attrs;
  const lp = (pb.localPref ?? DEFAULT_LOCAL_PREF) - (pa.localPref ?? DEFAULT_LOCAL_PREF);
  if (lp !== 0) return lp;
  const len = asPathLength(pa.asPath ?? []) - asPathLength(pb.asPath ?? []);
  if (len !== 0) return len;
  const origin = (pa.origin ?? 2) - (pb.origin ?? 2);
  if (origin !== 0) return origin;
  if (neighbourAs(pa.asPath) === neighbourAs(pb.asPath)) {
    const med = (pa.med ?? 0) - (pb.med ?? 0);
    if (med !== 0) return med;
  }
  if (sa.ebgp !== sb.ebgp) return sa.ebgp ? -1 : 1;
  const id = ipKey(sa.peerBgpId).localeCompare(ipKey(sb.peerBgpId));
  if (id !== 0) return id;
  return ipKey(sa.peerAddress).localeCompare(ipKey(sb.peerAddress));
}

/** The best of `candidates`, or undefined for none. */
export function selectBest(candidates: Iterable<Candidate>): Candidate | undefined {
  let best: Candidate | undefined;
  for (const c of candidates) if (!c.rejected && (!best || compareCandidates(c, best) < 0)) best = c;
  return best;
}

/** True when `asn` appears anywhere in the AS_PATH (a loop: RFC 4271 §9.1.2). */
export function asPathContains(path: readonly AsPathSegment[] | undefined, asn: number): boolean {
  return (path ?? []).some((s) => s.asns.includes(asn));
}
