/**
 * IPv4/IPv6 addresses between text and bytes, strict both ways. IPv6 text is
 * produced in RFC 5952 canonical form (lower case, longest zero run
 * compressed) so equal addresses always compare equal as strings.
 */

const OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** Dotted quad → 4 bytes; undefined when not a strict dotted quad. */
export function ipv4ToBytes(text: string): Buffer | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) {
    if (!OCTET.test(parts[i])) return undefined;
    const v = Number(parts[i]);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

/** 4 bytes at `offset` → dotted quad. */
export function bytesToIpv4(buf: Buffer, offset = 0): string {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}

const HEXTET = /^[0-9a-fA-F]{1,4}$/;

/** IPv6 text (with optional embedded IPv4 tail) → 16 bytes; undefined when invalid. */
export function ipv6ToBytes(text: string): Buffer | undefined {
  let head = text;
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.indexOf('.', lastColon) > 0) {
    // An embedded IPv4 tail ("::ffff:1.2.3.4") becomes its two hextets.
    const tail4 = ipv4ToBytes(text.slice(lastColon + 1));
    if (!tail4) return undefined;
    head = `${text.slice(0, lastColon + 1)}${tail4.readUInt16BE(0).toString(16)}:${tail4.readUInt16BE(2).toString(16)}`;
  }
  const groupsWanted = 8;
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!HEXTET.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = parse(halves[0]);
  const right = halves.length === 2 ? parse(halves[1]) : [];
  if (!left || !right) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const fill = groupsWanted - left.length - right.length;
    if (fill < 1) return undefined;
    groups = [...left, ...new Array<number>(fill).fill(0), ...right];
  } else {
    groups = left;
  }
  if (groups.length !== groupsWanted) return undefined;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** 16 bytes at `offset` → RFC 5952 text. */
export function bytesToIpv6(buf: Buffer, offset = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(offset + i * 2));
  // Longest run of zero groups (length ≥ 2) is compressed; first one wins a tie.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Text → bytes for either family; undefined when the text is not an address of that family. */
export function addrToBytes(afi: 4 | 6, text: string): Buffer | undefined {
  return afi === 4 ? ipv4ToBytes(text) : ipv6ToBytes(text);
}
