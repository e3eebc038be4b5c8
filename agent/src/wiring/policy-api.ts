/**
 * The API's policy calls (ListPolicies, GetPolicy, ApplyPolicies,
 * DeletePolicy, TracePolicy) over the store's policy records in etcd: the
 * same parsing, single-transaction write and trace as `knitctl policy …`
 * (cli/policy.ts), so both paths validate and decide alike. Policies live in
 * etcd, so any knitd answers for the whole cluster; every knitd's
 * PolicyEnforcer programs a change from its watch.
 */
import type { Etcd3 } from 'etcd3';
import { RequestError, StateUnavailableError, type PolicyInfo, type PolicySource, type PolicyVerdictInfo } from '../api';
import { errorMessage } from '../base';
import {
  parseEndpointRecord, parsePolicyFile, parsePolicyRecord, policyDocument, PolicyError, TraceError, traceConnection,
  type DirectionVerdict, type Policy, type PolicyEndpoint,
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

function verdict(v: DirectionVerdict): PolicyVerdictInfo {
  return { allowed: v.allowed, reason: v.reason, ...(v.policy !== undefined ? { policy: v.policy } : {}), ...(v.rule !== undefined ? { rule: v.rule } : {}) };
}

export function etcdPolicySource(client: Etcd3, prefix: string): PolicySource {
  /** Stored policies, validated again (etcd is outside input); bad records are named, not used. */
  const load = async (): Promise<{ policies: Policy[]; invalid: string[] }> => {
    const policies: Policy[] = [];
    const invalid: string[] = [];
    for (const { key, value } of await listPolicyDocuments(client, prefix)) {
      try {
        policies.push(parsePolicyRecord(key, value));
      } catch (err) {
        invalid.push(`${key}: ${errorMessage(err)}`);
      }
    }
    policies.sort((a, b) => `${a.network}/${a.name}`.localeCompare(`${b.network}/${b.name}`));
    return { policies, invalid };
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
      const endpoints: PolicyEndpoint[] = [];
      for (const { key, value } of await listPolicyEndpointRecords(client, prefix)) {
        try {
          endpoints.push(parseEndpointRecord(key, value));
        } catch {
          // an invalid endpoint record is skipped, as the enforcer skips it
        }
      }
      const t = traceConnection(policies, endpoints, q);
      return { allowed: t.allowed, from: t.from, to: t.to, egress: verdict(t.egress), ingress: verdict(t.ingress) };
    }),
  };
}
