/**
 * `knitctl policy apply|ls|inspect|rm|trace`: policies live in etcd
 * (`<prefix>/policies/<network>/<name>`), so these talk to etcd through
 * `PolicyStore` (the real one is etcd-policy-store.ts; tests pass a fake).
 * A file is validated whole before anything is written, and written in one
 * etcd transaction. `trace` compiles the stored policies and endpoint records
 * with the same compiler knitd's nft renderer uses.
 */
import {
  parseEndpointRecord, parsePolicyFile, parsePolicyRecord, parsePortRef, parseRecords, policyDocument, sortPolicies, TraceError, traceConnection,
  type ConnectionTrace, type Policy,
} from '../policy';
import { renderTable, type Cell } from './table';
import { UsageError } from './args';

export interface PolicyStore {
  /** Writes every policy in one transaction (creating or replacing). */
  put(policies: readonly Policy[]): Promise<void>;
  /** Every stored policy as raw JSON text, keyed "<network>/<name>". */
  list(): Promise<Array<{ key: string; value: string }>>;
  /** Removes one; false when absent. */
  remove(network: string, name: string): Promise<boolean>;
  /** Endpoint records (`<prefix>/policy-endpoints/<network>/<id>`) as raw JSON text. */
  endpoints(): Promise<Array<{ key: string; value: string }>>;
  close?(): Promise<void> | void;
}

export interface PolicyIo {
  out(text: string): void;
  err(text: string): void;
  json: boolean;
}

/** Stored policies, validated again (etcd is outside input); bad records are reported, not used. */
async function loadPolicies(store: PolicyStore, io: PolicyIo): Promise<Policy[]> {
  const { valid, invalid } = parseRecords(await store.list(), parsePolicyRecord);
  for (const bad of invalid) io.err(`knitctl: skipping invalid policy record ${bad.key}: ${bad.error}\n`);
  return sortPolicies(valid);
}

/** Throws PolicyError when the file is not valid (called before any etcd connection). */
export function validatePolicyText(text: string, source: string): void {
  parsePolicyFile(text, source);
}

export async function policyApply(store: PolicyStore, text: string, source: string, io: PolicyIo): Promise<number> {
  const policies = parsePolicyFile(text, source);
  await store.put(policies);
  if (io.json) io.out(JSON.stringify(policies.map((p) => `${p.network}/${p.name}`)) + '\n');
  else for (const p of policies) io.out(`policy ${p.network}/${p.name} applied\n`);
  return 0;
}

export async function policyList(store: PolicyStore, io: PolicyIo): Promise<number> {
  const ps = await loadPolicies(store, io);
  if (io.json) {
    io.out(JSON.stringify(ps.map(policyDocument), null, 2) + '\n');
    return 0;
  }
  const rows: Cell[][] = ps.map((p) => [p.network, p.name, JSON.stringify(p.selector), p.ingress === undefined ? '-' : String(p.ingress.length), p.egress === undefined ? '-' : String(p.egress.length)]);
  io.out(renderTable(['NETWORK', 'NAME', 'SELECTOR', 'INGRESS', 'EGRESS'], rows));
  return 0;
}

/** NAME or NETWORK/NAME (NAME alone means network "default"). */
function splitName(ref: string): { network: string; name: string } {
  const slash = ref.indexOf('/');
  return slash < 0 ? { network: 'default', name: ref } : { network: ref.slice(0, slash), name: ref.slice(slash + 1) };
}

export async function policyInspect(store: PolicyStore, ref: string, io: PolicyIo): Promise<number> {
  const { network, name } = splitName(ref);
  const p = (await loadPolicies(store, io)).find((x) => x.network === network && x.name === name);
  if (p === undefined) {
    io.err(`knitctl: no policy ${network}/${name}\n`);
    return 1;
  }
  io.out(JSON.stringify(policyDocument(p), null, 2) + '\n');
  return 0;
}

export async function policyRemove(store: PolicyStore, ref: string, io: PolicyIo): Promise<number> {
  const { network, name } = splitName(ref);
  if (!(await store.remove(network, name))) {
    io.err(`knitctl: no policy ${network}/${name}\n`);
    return 1;
  }
  io.out(io.json ? JSON.stringify({ removed: `${network}/${name}` }) + '\n' : `policy ${network}/${name} removed\n`);
  return 0;
}

export async function policyTrace(store: PolicyStore, q: { from: string; to: string; port: string }, io: PolicyIo): Promise<number> {
  const policies = await loadPolicies(store, io);
  const { valid: endpoints, invalid } = parseRecords(await store.endpoints(), parseEndpointRecord);
  for (const bad of invalid) io.err(`knitctl: skipping invalid endpoint record ${bad.key}: ${bad.error}\n`);
  let result: ConnectionTrace;
  try {
    result = traceConnection(policies, endpoints, q);
  } catch (e) {
    // The trace names its arguments as the API does ("from", "port"); here they are flags.
    if (e instanceof TraceError) throw new UsageError(e.message.replace(/\b(from|to|port) /g, '--$1 '));
    throw e;
  }
  if (io.json) {
    io.out(JSON.stringify({ from: result.from, to: result.to, port: q.port, allowed: result.allowed, egress: result.egress, ingress: result.ingress }, null, 2) + '\n');
  } else {
    io.out(`${result.allowed ? 'ALLOW' : 'DENY'} ${result.from} -> ${result.to} ${q.port}\n`);
    io.out(`  egress:  ${result.egress.allowed ? 'allow' : 'deny'}: ${result.egress.reason}\n`);
    io.out(`  ingress: ${result.ingress.allowed ? 'allow' : 'deny'}: ${result.ingress.reason}\n`);
  }
  return result.allowed ? 0 : 3;
}

/** Checks a --port value before any etcd connection (UsageError when bad). */
export function checkPortArg(text: string): void {
  try {
    parsePortRef(text);
  } catch (e) {
    if (e instanceof TraceError) throw new UsageError(`--${e.message}`);
    throw e;
  }
}
