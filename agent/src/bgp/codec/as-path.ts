/**
 * AS_PATH and AS4_PATH segments (RFC 4271 §4.3, RFC 5065, RFC 6793), and
 * the conversions that let the rest of knit see only real 4-octet paths:
 * towards a 2-octet peer a path is sent as AS_PATH with AS_TRANS in place of
 * large numbers plus AS4_PATH with the truth (§4.2.2), and on receipt the two
 * are merged back (§4.2.3).
 */
import { AS_TRANS, AsPathSegmentType } from './constants';
import type { AsPathSegment } from './types';

const TYPE_TO_CODE: Record<AsPathSegment['type'], number> = {
  set: AsPathSegmentType.AS_SET,
  sequence: AsPathSegmentType.AS_SEQUENCE,
  'confed-sequence': AsPathSegmentType.AS_CONFED_SEQUENCE,
  'confed-set': AsPathSegmentType.AS_CONFED_SET,
};
const CODE_TO_TYPE: Record<number, AsPathSegment['type'] | undefined> = {
  [AsPathSegmentType.AS_SET]: 'set',
  [AsPathSegmentType.AS_SEQUENCE]: 'sequence',
  [AsPathSegmentType.AS_CONFED_SEQUENCE]: 'confed-sequence',
  [AsPathSegmentType.AS_CONFED_SET]: 'confed-set',
};

/** Reads segments with `asSize`-octet AS numbers from buf[start, end); a string says why it is malformed. */
export function decodeAsPath(buf: Buffer, start: number, end: number, asSize: 2 | 4): AsPathSegment[] | string {
  const segments: AsPathSegment[] = [];
  let pos = start;
  while (pos < end) {
    if (pos + 2 > end) return 'truncated segment header';
    const type = CODE_TO_TYPE[buf[pos]];
    const count = buf[pos + 1];
    if (!type) return `segment type ${buf[pos]}`;
    // RFC 7606 §7.2: a zero-length segment is malformed.
    if (count === 0) return 'empty segment';
    if (pos + 2 + count * asSize > end) return `segment of ${count} AS numbers overruns the attribute`;
    const asns: number[] = [];
    for (let i = 0; i < count; i++) {
      const at = pos + 2 + i * asSize;
      asns.push(asSize === 4 ? buf.readUInt32BE(at) : buf.readUInt16BE(at));
    }
    segments.push({ type, asns });
    pos += 2 + count * asSize;
  }
  return segments;
}

/** Encodes segments with `asSize`-octet numbers; sequences longer than 255 are split, as RFC 4271 §9.2.2.1 says. */
export function encodeAsPath(segments: readonly AsPathSegment[], asSize: 2 | 4): Buffer {
  const parts: Buffer[] = [];
  for (const seg of segments) {
    if (seg.asns.length === 0) continue;
    const splittable = seg.type === 'sequence' || seg.type === 'confed-sequence';
    if (seg.asns.length > 255 && !splittable) throw new RangeError(`AS_SET of ${seg.asns.length} members exceeds 255`);
    for (let from = 0; from < seg.asns.length; from += 255) {
      const chunk = seg.asns.slice(from, from + 255);
      const out = Buffer.alloc(2 + chunk.length * asSize);
      out[0] = TYPE_TO_CODE[seg.type];
      out[1] = chunk.length;
      chunk.forEach((asn, i) => {
        if (asSize === 4) out.writeUInt32BE(asn >>> 0, 2 + i * 4);
        else out.writeUInt16BE(asn, 2 + i * 2);
      });
      parts.push(out);
    }
  }
  return Buffer.concat(parts);
}

/** True when some AS number of the path does not fit 2 octets. */
export function needsFourOctets(segments: readonly AsPathSegment[]): boolean {
  return segments.some((s) => s.asns.some((a) => a > 0xffff));
}

/** The path as a 2-octet speaker sees it: AS_TRANS for every large AS number. */
export function toTwoOctetPath(segments: readonly AsPathSegment[]): AsPathSegment[] {
  return segments.map((s) => ({ type: s.type, asns: s.asns.map((a) => (a > 0xffff ? AS_TRANS : a)) }));
}

/** AS4_PATH carries no confederation segments (RFC 6793 §3). */
export function withoutConfed(segments: readonly AsPathSegment[]): AsPathSegment[] {
  return segments.filter((s) => s.type === 'sequence' || s.type === 'set');
}

/** Path length as route selection counts it: a set counts 1, confederation segments 0 (RFC 4271 §9.1.2.2, RFC 5065). */
export function asPathLength(segments: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segments) {
    if (s.type === 'sequence') n += s.asns.length;
    else if (s.type === 'set') n += 1;
  }
  return n;
}

/**
 * RFC 6793 §4.2.3: rebuild the real path from a 2-octet AS_PATH and the
 * AS4_PATH. When AS_PATH is shorter than AS4_PATH the latter is ignored;
 * otherwise the leading surplus of AS_PATH (with any confederation segments
 * before it) is kept and AS4_PATH appended.
 */
export function mergeAs4Path(asPath: readonly AsPathSegment[], as4Path: readonly AsPathSegment[]): AsPathSegment[] {
  const as4 = withoutConfed(as4Path);
  let need = asPathLength(asPath) - asPathLength(as4);
  if (need < 0) return asPath.map((s) => ({ type: s.type, asns: [...s.asns] }));
  const lead: AsPathSegment[] = [];
  for (const seg of asPath) {
    if (seg.type === 'confed-sequence' || seg.type === 'confed-set') {
      lead.push({ type: seg.type, asns: [...seg.asns] });
      continue;
    }
    if (need === 0) break;
    if (seg.type === 'set') {
      lead.push({ type: 'set', asns: [...seg.asns] });
      need -= 1;
    } else {
      const take = Math.min(need, seg.asns.length);
      lead.push({ type: 'sequence', asns: seg.asns.slice(0, take) });
      need -= take;
      if (take < seg.asns.length) break;
    }
  }
  const merged = [...lead, ...as4.map((s) => ({ type: s.type, asns: [...s.asns] }))];
  // Adjacent sequences at the seam are one sequence on the wire of a 4-octet speaker.
  const out: AsPathSegment[] = [];
  for (const seg of merged) {
    const prev = out[out.length - 1];
    if (prev && prev.type === 'sequence' && seg.type === 'sequence' && prev.asns.length + seg.asns.length <= 255) {
      prev.asns.push(...seg.asns);
    } else {
      out.push(seg);
    }
  }
  return out;
}
