/**
 * What this speaker sends to one peer, pure: the best paths minus those it
 * must not send, with the attributes rewritten for that peer.
 *   - never back to the peer the path came from;
 *   - iBGP split horizon: an iBGP-learned path is not sent to iBGP peers
 *     (knit is never a route reflector);
 *   - no transit: a path learned from an eBGP peer is not sent to another
 *     eBGP peer, so a node with two top-of-rack routers never carries
 *     traffic between them (what operators of Calico/MetalLB nodes expect;
 *     the RFCs would allow it);
 *   - NO_ADVERTISE: to nobody; NO_EXPORT: not to eBGP peers (RFC 1997);
 *   - next hop: always ourselves (the address of the session for IPv4, the
 *     configured or discovered IPv6 global + link-local for IPv6; without an
 *     IPv6 next hop IPv6 paths are not sent);
 *   - eBGP: our AS prepended, LOCAL_PREF removed, MED only on our own paths;
 *     iBGP: AS_PATH as is, LOCAL_PREF set.
 */
import { WellKnownCommunity, type AsPathSegment, type PathAttributes } from './codec';
import { DEFAULT_LOCAL_PREF, type Candidate } from './decision';
import type { Path } from './path';

/** The peer being exported to. */
export interface ExportTarget {
  peerAddress: string;
  ebgp: boolean;
  localAsn: number;
  /** Our address on the session (IPv4 next hop). */
  nextHop4: string;
  /** Our IPv6 next hop; IPv6 paths are skipped without one. */
  nextHop6?: { global: string; linkLocal?: string };
}

function prepend(path: readonly AsPathSegment[] | undefined, asn: number): AsPathSegment[] {
  const segs = (path ?? []).map((s) => ({ type: s.type, asns: [...s.asns] }));
  const first = segs[0];
  if (first && first.type === 'sequence' && first.asns.length < 255) first.asns.unshift(asn);
  else segs.unshift({ type: 'sequence', asns: [asn] });
  return segs;
}

/** The paths `target` should have, given the current best paths. */
export function exportPaths(best: Iterable<Candidate>, target: ExportTarget): Path[] {
  const out: Path[] = [];
  for (const c of best) {
    const src = c.source;
    if (src.kind === 'peer') {
      if (src.peerAddress === target.peerAddress) continue;
      if (!src.ebgp && !target.ebgp) continue;
      if (src.ebgp && target.ebgp) continue;
    }
    const a = c.path.attrs;
    const communities = a.communities ?? [];
    if (communities.includes(WellKnownCommunity.NO_ADVERTISE)) continue;
    if (target.ebgp && communities.includes(WellKnownCommunity.NO_EXPORT)) continue;
    const isV6 = c.path.prefix.afi === 6;
    if (isV6 && !target.nextHop6) continue;

    const attrs: PathAttributes = { origin: a.origin ?? 0 };
    if (target.ebgp) {
      attrs.asPath = prepend(a.asPath, target.localAsn);
      if (src.kind === 'local' && a.med !== undefined) attrs.med = a.med;
    } else {
      attrs.asPath = (a.asPath ?? []).map((s) => ({ type: s.type, asns: [...s.asns] }));
      attrs.localPref = a.localPref ?? DEFAULT_LOCAL_PREF;
      if (a.med !== undefined) attrs.med = a.med;
    }
    if (a.atomicAggregate) attrs.atomicAggregate = true;
    if (a.aggregator) attrs.aggregator = a.aggregator;
    if (communities.length > 0) attrs.communities = [...communities];
    if (a.unknown && a.unknown.length > 0) attrs.unknown = a.unknown;

    const p: Path = { prefix: c.path.prefix, nextHop: isV6 ? target.nextHop6!.global : target.nextHop4, attrs };
    if (isV6 && target.nextHop6?.linkLocal) p.nextHopLinkLocal = target.nextHop6.linkLocal;
    out.push(p);
  }
  return out;
}
