/**
 * Where policies and policy endpoint records live in etcd (docs/policy.md):
 * `<prefix>/policies/<network>/<name>` holds a policy's file form (JSON),
 * `<prefix>/policy-endpoints/<network>/<id>` an endpoint's labels and
 * addresses. The store moves text; policy/ parses and validates it (a
 * reader validates again: etcd is outside input). knitctl and the API's
 * policy calls go through these, knitd's enforcer watches the same prefixes.
 */
import type { Etcd3 } from 'etcd3';
import { wrapEtcdError } from './errors';

/** One stored record, keyed by what follows its directory ("<network>/<name>"). */
export interface PolicyRecordText {
  key: string;
  value: string;
}

export function policyKey(prefix: string, network: string, name: string): string {
  return `${prefix}/policies/${network}/${name}`;
}

/** Writes every document in one transaction (creating or replacing): a file applies whole or not at all. */
export async function putPolicyDocuments(client: Etcd3, prefix: string, docs: ReadonlyArray<{ network: string; name: string; json: string }>): Promise<void> {
  if (docs.length === 0) return;
  const ops = docs.map((d) => client.put(policyKey(prefix, d.network, d.name)).value(d.json));
  try {
    // An always-true comparison makes this one multi-key transaction.
    await client.if(policyKey(prefix, docs[0]!.network, docs[0]!.name), 'Version', '>', -1).then(...ops).commit();
  } catch (err) {
    throw wrapEtcdError('write policies', err);
  }
}

async function listUnder(client: Etcd3, dir: string, what: string): Promise<PolicyRecordText[]> {
  try {
    const all = await client.getAll().prefix(dir).strings();
    return Object.entries(all).map(([k, value]) => ({ key: k.slice(dir.length), value }));
  } catch (err) {
    throw wrapEtcdError(`list ${what}`, err);
  }
}

/** Every stored policy as text, keyed "<network>/<name>". */
export function listPolicyDocuments(client: Etcd3, prefix: string): Promise<PolicyRecordText[]> {
  return listUnder(client, `${prefix}/policies/`, 'policies');
}

/** Every endpoint record as text, keyed "<network>/<id>". */
export function listPolicyEndpointRecords(client: Etcd3, prefix: string): Promise<PolicyRecordText[]> {
  return listUnder(client, `${prefix}/policy-endpoints/`, 'policy endpoint records');
}

/** Removes one policy; false when there was none. */
export async function removePolicyDocument(client: Etcd3, prefix: string, network: string, name: string): Promise<boolean> {
  try {
    return (await client.delete().key(policyKey(prefix, network, name)).exec()).deleted !== '0';
  } catch (err) {
    throw wrapEtcdError(`remove policy ${network}/${name}`, err);
  }
}
