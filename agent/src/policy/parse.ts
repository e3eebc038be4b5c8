/**
 * Pure: a policy file (YAML or JSON, one policy or a list of them) to
 * validated Policy values. Everything is hostile: every field is checked and
 * an error names the offending field by its path, so `knitctl policy apply`
 * applies all of a file or none of it.
 */
import { parseAllDocuments } from 'yaml';
import { mustParseCidrAny, cidrCoversAny } from '../net/ip';
import type { PortSpec, Peer, Policy, PolicyProtocol, Rule, Selector } from './types';
import { errorMessage } from '../base';

export class PolicyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PolicyError';
  }
}

/** Names of policies and networks: DNS-label-like, as network names. */
export const POLICY_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** Label keys: a DNS-subdomain-ish prefix and a name ("app", "k8s.pod", "example.com/tier"). */
const LABEL_KEY = /^([a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;
/** Label values: empty or an alphanumeric token with - _ . inside (Kubernetes rules). */
const LABEL_VALUE = /^([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$/;
const MAX_TEXT = 1 << 20;
const MAX_RULES = 256;
const MAX_ITEMS = 256;

type Obj = Record<string, unknown>;
function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function fail(path: string, what: string): never {
  throw new PolicyError(`${path}: ${what}`);
}

function onlyKeys(o: Obj, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) fail(path, `unknown field ${JSON.stringify(k)} (expected ${allowed.join(', ')})`);
  }
}

function list(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(path, 'must be a list');
  if (v.length > MAX_ITEMS) fail(path, `at most ${MAX_ITEMS} items`);
  return v;
}

/** Validates a label map (selector or endpoint labels). */
export function parseLabels(v: unknown, path: string): Selector {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) fail(path, 'must be a map of label key to value');
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (!LABEL_KEY.test(k)) fail(`${path}.${k}`, 'invalid label key');
    if (typeof val !== 'string' || !LABEL_VALUE.test(val)) fail(`${path}.${k}`, 'label value must be a string of letters, digits, - _ . (at most 63)');
    out[k] = val;
  }
  return out;
}

function parsePort(v: unknown, path: string): PortSpec {
  if (!isObj(v)) fail(path, 'must be a map {protocol, port, endPort}');
  onlyKeys(v, path, ['protocol', 'port', 'endPort']);
  const protocol = v.protocol === undefined ? 'TCP' : v.protocol;
  if (protocol !== 'TCP' && protocol !== 'UDP' && protocol !== 'SCTP') fail(`${path}.protocol`, 'must be TCP, UDP or SCTP');
  const isPort = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
  if (v.port === undefined) {
    if (v.endPort !== undefined) fail(`${path}.endPort`, 'needs port');
    return { protocol: protocol as PolicyProtocol };
  }
  if (typeof v.port === 'string') fail(`${path}.port`, 'named ports are not supported; give a number 1..65535');
  if (!isPort(v.port)) fail(`${path}.port`, 'must be an integer 1..65535');
  if (v.endPort === undefined) return { protocol: protocol as PolicyProtocol, port: v.port };
  if (!isPort(v.endPort)) fail(`${path}.endPort`, 'must be an integer 1..65535');
  if (v.endPort < v.port) fail(`${path}.endPort`, `must be >= port (${v.port})`);
  return { protocol: protocol as PolicyProtocol, port: v.port, endPort: v.endPort };
}

function parsePeer(v: unknown, path: string): Peer {
  if (!isObj(v)) fail(path, 'must be {selector: {...}} or {cidr: "...", except: [...]}');
  if ('selector' in v) {
    onlyKeys(v, path, ['selector']);
    return { selector: parseLabels(v.selector, `${path}.selector`) };
  }
  if (!('cidr' in v)) fail(path, 'needs selector or cidr');
  onlyKeys(v, path, ['cidr', 'except']);
  if (typeof v.cidr !== 'string') fail(`${path}.cidr`, 'must be a string');
  let outer;
  try {
    outer = mustParseCidrAny(v.cidr);
  } catch (err) {
    fail(`${path}.cidr`, errorMessage(err));
  }
  const except = v.except === undefined ? [] : list(v.except, `${path}.except`);
  const ex: string[] = [];
  except.forEach((e, i) => {
    const p = `${path}.except[${i}]`;
    if (typeof e !== 'string') fail(p, 'must be a string');
    let inner;
    try {
      inner = mustParseCidrAny(e);
    } catch (err) {
      fail(p, errorMessage(err));
    }
    if (!cidrCoversAny(outer, inner)) fail(p, `${e} is not inside ${v.cidr}`);
    ex.push(e);
  });
  return { cidr: v.cidr, except: ex };
}

function parseRules(v: unknown, path: string, peerKey: 'from' | 'to'): Rule[] {
  if (v === null) return [];
  const items = list(v, path);
  if (items.length > MAX_RULES) fail(path, `at most ${MAX_RULES} rules`);
  return items.map((r, i) => {
    const p = `${path}[${i}]`;
    if (!isObj(r)) fail(p, `must be a map {${peerKey}, ports}`);
    onlyKeys(r, p, [peerKey, 'ports']);
    const peers = r[peerKey] === undefined || r[peerKey] === null ? [] : list(r[peerKey], `${p}.${peerKey}`).map((x, j) => parsePeer(x, `${p}.${peerKey}[${j}]`));
    const ports = r.ports === undefined || r.ports === null ? [] : list(r.ports, `${p}.ports`).map((x, j) => parsePort(x, `${p}.ports[${j}]`));
    return { peers, ports };
  });
}

/** Validates one decoded policy object. */
export function parsePolicy(v: unknown, path = 'policy'): Policy {
  if (!isObj(v)) fail(path, 'must be a map {name, network, selector, ingress, egress}');
  onlyKeys(v, path, ['name', 'network', 'selector', 'ingress', 'egress']);
  if (typeof v.name !== 'string' || !POLICY_NAME.test(v.name)) fail(`${path}.name`, 'must be lowercase letters, digits and -, 1..63, starting and ending alphanumeric');
  const network = v.network === undefined ? 'default' : v.network;
  if (typeof network !== 'string' || !POLICY_NAME.test(network)) fail(`${path}.network`, 'must be a network name');
  if (v.selector === undefined) fail(`${path}.selector`, 'is required ({} selects every endpoint of the network)');
  const selector = parseLabels(v.selector, `${path}.selector`);
  if (v.ingress === undefined && v.egress === undefined) fail(path, 'needs an ingress or an egress section (an empty list denies all)');
  const out: { -readonly [K in keyof Policy]: Policy[K] } = { name: v.name, network, selector };
  if (v.ingress !== undefined) out.ingress = parseRules(v.ingress, `${path}.ingress`, 'from');
  if (v.egress !== undefined) out.egress = parseRules(v.egress, `${path}.egress`, 'to');
  return out;
}

/**
 * A policy file: YAML (a JSON document is valid YAML) holding one policy, a
 * list of them, or several `---` documents. Duplicate names in one file are
 * an error. Throws PolicyError naming the field; returns nothing partial.
 */
export function parsePolicyFile(text: string, source = 'policy file'): Policy[] {
  if (text.length > MAX_TEXT) throw new PolicyError(`${source}: larger than ${MAX_TEXT} bytes`);
  let docs: unknown[];
  try {
    const all = parseAllDocuments(text, { uniqueKeys: true, logLevel: 'error' });
    const list = Array.isArray(all) ? all : [all];
    docs = [];
    for (const d of list) {
      if (d.errors.length > 0) throw new PolicyError(`${source}: ${d.errors[0]!.message}`);
      const js: unknown = d.toJS({ maxAliasCount: 0 });
      if (js === null || js === undefined) continue;
      if (Array.isArray(js)) docs.push(...js);
      else docs.push(js);
    }
  } catch (err) {
    if (err instanceof PolicyError) throw err;
    throw new PolicyError(`${source}: not YAML or JSON: ${errorMessage(err)}`, { cause: err });
  }
  if (docs.length === 0) throw new PolicyError(`${source}: holds no policy`);
  const seen = new Set<string>();
  return docs.map((d, i) => {
    const p = parsePolicy(d, docs.length === 1 ? source : `${source}[${i}]`);
    const key = `${p.network}/${p.name}`;
    if (seen.has(key)) throw new PolicyError(`${source}: policy ${key} appears twice`);
    seen.add(key);
    return p;
  });
}
