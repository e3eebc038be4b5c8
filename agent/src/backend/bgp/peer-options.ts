/**
 * The protection fields of a BGP peer in the network config (import filter,
 * default route, first-AS, max-prefix, TCP-MD5, GTSM), parsed and checked
 * apart from the rest of the bgp section (config.ts). The rules they drive are in
 * agent/src/bgp/import-policy.ts and docs/bgp.md.
 */
import { isIP } from 'node:net';

/** One prefix-list entry as written: `{"prefix": "10.0.0.0/8", "le": 24, "action": "accept"}`. */
export interface BgpPrefixRuleConfig {
  prefix: string;
  ge?: number;
  le?: number;
  /** Default "accept". */
  action?: 'accept' | 'reject';
}

/** The protection fields of a peer (all optional; defaults in docs/bgp.md). */
export interface BgpPeerProtection {
  /** "cluster" (default): only the cluster's own space; "all": everything the safety rules allow; or a prefix list. */
  import?: 'all' | 'cluster' | BgpPrefixRuleConfig[];
  /** Accept a default route from this peer (default false). */
  allowDefault?: boolean;
  /** eBGP: the AS_PATH must start with the peer's AS (default true). */
  enforceFirstAs?: boolean;
  /** Most prefixes the peer may send before Cease 6/1 (default 150 000). */
  maxPrefixes?: number;
  /** Seconds the session stays idle after a max-prefix Cease (default 120). */
  maxPrefixRestart?: number;
  /** TCP-MD5 key (RFC 2385), 1..80 bytes. */
  password?: string;
  /** GTSM (RFC 5082): send with TTL 255 and accept only TTL 255 (directly connected peers). */
  ttlSecurity?: boolean;
}

/** The keys this file parses (the peer parser allows them). */
export const BGP_PEER_PROTECTION_FIELDS = ['import', 'allowDefault', 'enforceFirstAs', 'maxPrefixes', 'maxPrefixRestart', 'password', 'ttlSecurity'] as const;

/** A field that does not validate: the caller wraps it in its NetworkConfigError. */
export class PeerFieldError extends Error {
  constructor(readonly field: string, detail: string) {
    super(detail);
  }
}

/** The address bytes of an IPv4 or IPv6 literal (validated by isIP first). */
function addressBytes(text: string): number[] {
  if (isIP(text) === 4) return text.split('.').map(Number);
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (s: string | undefined): string[] => (s ? s.split(':') : []);
  let h = groups(head);
  let t = groups(tail);
  // An embedded IPv4 tail ("::ffff:1.2.3.4") is two groups.
  const v4 = (g: string[]): string[] => {
    const last = g.at(-1);
    if (!last?.includes('.')) return g;
    const b = last.split('.').map(Number);
    return [...g.slice(0, -1), ((b[0] << 8) | b[1]).toString(16), ((b[2] << 8) | b[3]).toString(16)];
  };
  if (tail === undefined) h = v4(h);
  else t = v4(t);
  const all = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return all.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

/** "10.0.0.0/8" or "2001:db8::/32" with no host bits set; returns its length and the family's maximum. */
export function checkCidr(text: unknown, field: string): { len: number; max: number } {
  if (typeof text !== 'string') throw new PeerFieldError(field, `must be a CIDR string, got ${JSON.stringify(text)}`);
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  const fam = m ? isIP(m[1]) : 0;
  if (!m || fam === 0) throw new PeerFieldError(field, `must be a CIDR such as "10.0.0.0/8", got ${JSON.stringify(text)}`);
  const len = Number(m[2]);
  const max = fam === 4 ? 32 : 128;
  if (len > max) throw new PeerFieldError(field, `prefix length ${len} exceeds ${max}`);
  const bytes = addressBytes(m[1]);
  for (let bit = len; bit < max; bit++) {
    if ((bytes[bit >> 3] & (0x80 >> (bit & 7))) !== 0) throw new PeerFieldError(field, `${text} has host bits set`);
  }
  return { len, max };
}

function int(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new PeerFieldError(field, `must be an integer ${min}..${max}, got ${JSON.stringify(v)}`);
  return v;
}

function bool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') throw new PeerFieldError(field, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function parseImport(v: unknown, at: string): NonNullable<BgpPeerProtection['import']> {
  if (v === 'all' || v === 'cluster') return v;
  if (!Array.isArray(v)) throw new PeerFieldError(at, `must be "cluster", "all" or a prefix list like [{"prefix": "10.0.0.0/8", "le": 24}], got ${JSON.stringify(v)}`);
  return v.map((r: unknown, i) => {
    const f = `${at}.${i}`;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new PeerFieldError(f, `must be an object like {"prefix": "10.0.0.0/8", "le": 24}, got ${JSON.stringify(r)}`);
    const o = r as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!['prefix', 'ge', 'le', 'action'].includes(k)) throw new PeerFieldError(`${f}.${k}`, 'unknown field (allowed: prefix, ge, le, action)');
    const { len, max } = checkCidr(o.prefix, `${f}.prefix`);
    const out: BgpPrefixRuleConfig = { prefix: o.prefix as string };
    if (o.ge !== undefined) out.ge = int(o.ge, `${f}.ge`, len, max);
    if (o.le !== undefined) out.le = int(o.le, `${f}.le`, out.ge ?? len, max);
    if (o.action !== undefined) {
      if (o.action !== 'accept' && o.action !== 'reject') throw new PeerFieldError(`${f}.action`, `must be "accept" or "reject", got ${JSON.stringify(o.action)}`);
      out.action = o.action;
    }
    return out;
  });
}

/** Parses the protection fields of peer object `p` (at dotted path `at`) into `out`. */
export function parsePeerProtection(p: Record<string, unknown>, at: string, out: BgpPeerProtection): void {
  if (p.import !== undefined) out.import = parseImport(p.import, `${at}.import`);
  if (p.allowDefault !== undefined) out.allowDefault = bool(p.allowDefault, `${at}.allowDefault`);
  if (p.enforceFirstAs !== undefined) out.enforceFirstAs = bool(p.enforceFirstAs, `${at}.enforceFirstAs`);
  if (p.maxPrefixes !== undefined) out.maxPrefixes = int(p.maxPrefixes, `${at}.maxPrefixes`, 1, 10_000_000);
  if (p.maxPrefixRestart !== undefined) out.maxPrefixRestart = int(p.maxPrefixRestart, `${at}.maxPrefixRestart`, 1, 86_400);
  if (p.password !== undefined) {
    const pw = p.password;
    // TCP_MD5SIG_MAXKEYLEN is 80 bytes.
    if (typeof pw !== 'string' || Buffer.byteLength(pw) < 1 || Buffer.byteLength(pw) > 80) throw new PeerFieldError(`${at}.password`, 'must be a string of 1..80 bytes');
    out.password = pw;
  }
  if (p.ttlSecurity !== undefined) out.ttlSecurity = bool(p.ttlSecurity, `${at}.ttlSecurity`);
}
