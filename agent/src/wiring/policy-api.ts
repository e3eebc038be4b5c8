/**
 * The API's policy calls (ListPolicies, GetPolicy, ApplyPolicies,
 * DeletePolicy, TracePolicy) over the store's policy records in etcd: the
 * same parsing, single-transaction write and trace as `knitctl policy …`
 * (cli/policy.ts), so both paths validate and decide alike. Policies live in
 * etcd, so any knitd answers for the whole cluster; every knitd's
 * PolicyEnforcer programs a change from its watch.
 */
import type { Etcd3 } from 'etcd3';
import { RequestError, StateUnavailableError, type PolicyInfo, type PolicySource } from '../api';
import {
  parseEndpointRecord, parsePolicyFile, parsePolicyRecord, parseRecords, policyDocument, PolicyError, sortPolicies, TraceError, traceConnection,
  type Policy,
} from '../policy';
import { EtcdUnavailableError, listPolicyDocuments, listPolicyEndpointRecords, putPolicyDocuments, removePolicyDocument } from '../store';

/** A validated policy as the API shows it. */
export function policyInfo(p: Policy): PolicyInfo {
  return { network: p.network, name: p.name, document: policyDocument(p), selector: { ...p.selector } };
}

async function mapped<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof PolicyError || err instanceof TraceError) throw new RequestError('invalid', err.message, { cause: err });
    if (err instanceof EtcdUnavailableError) throw new StateUnavailableError(err.message, { cause: err });
    throw err;
  }
}

export function etcdPolicySource(client: Etcd3, prefix: string): PolicySource {
  /** Stored policies, validated again (etcd is outside input); bad records are named, not used. */
  const load = async (): Promise<{ policies: Policy[]; invalid: string[] }> => {
    const { valid, invalid } = parseRecords(await listPolicyDocuments(client, prefix), parsePolicyRecord);
    return { policies: sortPolicies(valid), invalid: invalid.map((b) => `${b.key}: ${b.error}`) };
  };
  return {
    list: (network) => mapped(async () => {
      const { policies, invalid } = await load();
      return { policies: policies.filter((p) => network === undefined || p.network === network).map(policyInfo), invalid };
    }),
    get: (network, name) => mapped(async () => {
      const p = (await load()).policies.find((x) => x.network === network && x.name === name);
      return p === undefined ? undefined : policyInfo(p);
    }),
    apply: (document) => mapped(async () => {
      const policies = parsePolicyFile(document, 'document');
      await putPolicyDocuments(client, prefix, policies.map((p) => ({ network: p.network, name: p.name, json: JSON.stringify(policyDocument(p)) })));
      return policies.map(policyInfo);
    }),
    remove: (network, name) => mapped(() => removePolicyDocument(client, prefix, network, name)),
    trace: (q) => mapped(async () => {
      const { policies } = await load();
      // An invalid endpoint record is skipped, as the enforcer skips it.
      const endpoints = parseRecords(await listPolicyEndpointRecords(client, prefix), parseEndpointRecord).valid;
      const t = traceConnection(policies, endpoints, q);
      return { allowed: t.allowed, from: t.from, to: t.to, egress: t.egress, ingress: t.ingress };
    }),
  };
}
