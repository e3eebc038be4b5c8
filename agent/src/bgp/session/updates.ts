/**
 * Pure conversions between UPDATE messages and paths: reading what a peer
 * announced and withdrew (IPv4 NLRI + NEXT_HOP, and MP_REACH/MP_UNREACH for
 * any family), and packing paths into as few UPDATEs as fit in 4096 octets,
 * one attribute set per UPDATE.
 */
import {
  Afi, encodeMessage, MAX_MESSAGE_LENGTH, Safi,
  type AfiSafi, type CodecContext, type PathAttributes, type Prefix, type UpdateMessage,
} from '../codec';
import { pathSignature, type Path } from '../path';

/** What one UPDATE changes. */
export interface UpdateEffect {
  announced: Path[];
  withdrawn: Prefix[];
}

/** Paths announced and prefixes withdrawn by a decoded UPDATE (unicast families only). */
export function readUpdate(msg: UpdateMessage): UpdateEffect {
  const { nextHop, mpReach, mpUnreach, ...attrs } = msg.attributes;
  const withdrawn: Prefix[] = [...msg.withdrawn];
  if (mpUnreach && mpUnreach.safi === Safi.UNICAST) withdrawn.push(...mpUnreach.withdrawn);
  const announced: Path[] = [];
  if (nextHop !== undefined) {
    for (const prefix of msg.nlri) announced.push({ prefix, nextHop, attrs });
  }
  if (mpReach && mpReach.safi === Safi.UNICAST && !mpReach.raw) {
    for (const prefix of mpReach.nlri) {
      const p: Path = { prefix, nextHop: mpReach.nextHop.global, attrs };
      if (mpReach.nextHop.linkLocal) p.nextHopLinkLocal = mpReach.nextHop.linkLocal;
      announced.push(p);
    }
  }
  return { announced, withdrawn };
}

const MAX_PREFIX_OCTETS: Record<4 | 6, number> = { 4: 5, 6: 17 };

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** How many prefixes of a family still fit next to this (prefix-less) UPDATE. */
function room(empty: UpdateMessage, afi: 4 | 6, ctx: CodecContext): number {
  const base = encodeMessage(empty, ctx).length;
  return Math.max(1, Math.floor((MAX_MESSAGE_LENGTH - base) / MAX_PREFIX_OCTETS[afi]));
}

function reachFor(family: 4 | 6, attrs: PathAttributes, sample: Path, nlri: Prefix[]): UpdateMessage {
  if (family === 4) return { type: 'update', withdrawn: [], attributes: { ...attrs, nextHop: sample.nextHop }, nlri };
  const nextHop = sample.nextHopLinkLocal ? { global: sample.nextHop, linkLocal: sample.nextHopLinkLocal } : { global: sample.nextHop };
  return { type: 'update', withdrawn: [], attributes: { ...attrs, mpReach: { afi: Afi.IPV6, safi: Safi.UNICAST, nextHop, nlri } }, nlri: [] };
}

function unreachFor(family: 4 | 6, prefixes: Prefix[]): UpdateMessage {
  if (family === 4) return { type: 'update', withdrawn: prefixes, attributes: {}, nlri: [] };
  return { type: 'update', withdrawn: [], attributes: { mpUnreach: { afi: Afi.IPV6, safi: Safi.UNICAST, withdrawn: prefixes } }, nlri: [] };
}

const familyOf = (afi: 4 | 6): AfiSafi => ({ afi: afi === 4 ? Afi.IPV4 : Afi.IPV6, safi: Safi.UNICAST });

/**
 * UPDATEs that withdraw `withdraw` and announce `announce`, only for the
 * negotiated `families` (paths of other families are skipped: the caller
 * filters first and counts). Withdrawals come first.
 */
export function buildUpdates(announce: readonly Path[], withdraw: readonly Prefix[], families: readonly AfiSafi[], ctx: CodecContext): UpdateMessage[] {
  const allowed = (afi: 4 | 6): boolean => families.some((f) => f.afi === familyOf(afi).afi && f.safi === Safi.UNICAST);
  const out: UpdateMessage[] = [];
  for (const afi of [4, 6] as const) {
    if (!allowed(afi)) continue;
    const w = withdraw.filter((p) => p.afi === afi);
    if (w.length > 0) out.push(...chunks(w, room(unreachFor(afi, []), afi, ctx)).map((c) => unreachFor(afi, c)));
  }
  const groups = new Map<string, Path[]>();
  for (const p of announce) {
    if (!allowed(p.prefix.afi)) continue;
    const key = `${p.prefix.afi}|${pathSignature({ ...p, prefix: { afi: 4, addr: '', len: 0 } })}`;
    const g = groups.get(key);
    if (g) g.push(p);
    else groups.set(key, [p]);
  }
  for (const g of groups.values()) {
    const sample = g[0];
    const afi = sample.prefix.afi;
    const size = room(reachFor(afi, sample.attrs, sample, []), afi, ctx);
    for (const c of chunks(g.map((p) => p.prefix), size)) out.push(reachFor(afi, sample.attrs, sample, c));
  }
  return out;
}
