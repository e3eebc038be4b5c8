/**
 * The etcd forms of policies and endpoint records (docs/policy.md):
 * `<prefix>/policies/<network>/<name>` holds the file form of a policy,
 * `<prefix>/policy-endpoints/<network>/<id>` holds {labels, addresses}.
 * Readers validate both again: etcd is outside input.
 */
import { errorMessage } from '../base';
import { parseLabels, parsePolicy } from './parse';
import type { Policy, PolicyEndpoint } from './types';

/** The file form of a validated policy (what `inspect -o json` prints and etcd holds). */
export function policyDocument(p: Policy): Record<string, unknown> {
  const rules = (rs: Policy['ingress'], key: 'from' | 'to') => rs?.map((r) => ({
    ...(r.peers.length > 0 ? { [key]: r.peers.map((x) => ('selector' in x ? { selector: x.selector } : { cidr: x.cidr, ...(x.except.length > 0 ? { except: x.except } : {}) })) } : {}),
    ...(r.ports.length > 0 ? { ports: r.ports } : {}),
  }));
  return {
    name: p.name, network: p.network, selector: p.selector,
    ...(p.ingress !== undefined ? { ingress: rules(p.ingress, 'from') } : {}),
    ...(p.egress !== undefined ? { egress: rules(p.egress, 'to') } : {}),
  };
}

/** Endpoint records: {"labels": {...}, "addresses": [...]}; network and id from the key. */
export function parseEndpointRecord(key: string, value: string): PolicyEndpoint {
  const parts = key.split('/');
  const [network, id] = [parts[parts.length - 2] ?? '', parts[parts.length - 1] ?? ''];
  const v = JSON.parse(value) as { labels?: unknown; addresses?: unknown };
  if (!Array.isArray(v.addresses) || !v.addresses.every((a) => typeof a === 'string')) throw new Error(`${key}: addresses must be a list of strings`);
  return { id, network, labels: parseLabels(v.labels, `${key}.labels`), addresses: v.addresses as string[] };
}

/** A stored policy record, validated; `key` names it in errors. */
export function parsePolicyRecord(key: string, value: string): Policy {
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    throw new Error(`${key}: not JSON`);
  }
  return parsePolicy(v, key);
}

/** Records read from etcd, each parsed with `parse`: the ones that do not validate come back with the reason, never used. */
export function parseRecords<T>(records: Iterable<{ key: string; value: string }>, parse: (key: string, value: string) => T): {
  valid: T[]; invalid: Array<{ key: string; error: string }>;
} {
  const valid: T[] = [];
  const invalid: Array<{ key: string; error: string }> = [];
  for (const { key, value } of records) {
    try {
      valid.push(parse(key, value));
    } catch (err) {
      invalid.push({ key, error: errorMessage(err) });
    }
  }
  return { valid, invalid };
}

/**
 * A watched prefix's records, each parsed once per value: a record whose
 * value did not change keeps its parsed object (CompileMemo keys on it) and
 * a bad value is reported once, not at every run.
 */
export class RecordCache<T> {
  private readonly parsed = new Map<string, { raw: string; value?: T }>();

  constructor(private readonly parse: (key: string, value: string) => T, private readonly onInvalid: (key: string, error: string) => void) {}

  /** The valid records of `records` (key → raw value), in its order. */
  valid(records: ReadonlyMap<string, string>): T[] {
    const out: T[] = [];
    for (const [key, raw] of records) {
      let entry = this.parsed.get(key);
      if (entry === undefined || entry.raw !== raw) {
        try {
          entry = { raw, value: this.parse(key, raw) };
        } catch (err) {
          entry = { raw };
          this.onInvalid(key, errorMessage(err));
        }
        this.parsed.set(key, entry);
      }
      if (entry.value !== undefined) out.push(entry.value);
    }
    for (const key of this.parsed.keys()) if (!records.has(key)) this.parsed.delete(key);
    return out;
  }
}

/** Policies in the order every reader lists them: by network, then name. */
export function sortPolicies(policies: Policy[]): Policy[] {
  return policies.sort((a, b) => `${a.network}/${a.name}`.localeCompare(`${b.network}/${b.name}`));
}
