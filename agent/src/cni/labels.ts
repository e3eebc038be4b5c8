/**
 * An endpoint's labels, for network policy selectors (docs/policy.md):
 * - the CNI convention `"args": {"cni": {"labels": [{"key": "app", "value": "web"}]}}`
 *   in the network configuration;
 * - Kubernetes' CNI_ARGS: K8S_POD_NAMESPACE becomes `k8s.namespace` and
 *   K8S_POD_NAME `k8s.pod`.
 * Both come from the runtime, so both are validated like Kubernetes labels
 * (the policy parser's rules) before anything is made. A pod name longer
 * than a label value may be (63) is left out rather than failing the pod:
 * select such pods by other labels.
 */
import { CniError, CniErrorCode } from './errors';
import { isObject } from '../base';
import { parseLabels, PolicyError } from '../policy';
import type { NetConf } from './netconf';

/** Labels knit derives from Kubernetes' CNI_ARGS. */
export const K8S_NAMESPACE_LABEL = 'k8s.namespace';
export const K8S_POD_LABEL = 'k8s.pod';

const LABEL_VALUE = /^([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$/;

/** The endpoint's labels; throws CniError (7: bad config labels, 4: a bad K8S_POD_NAMESPACE). */
export function endpointLabels(conf: Pick<NetConf, 'args'>, cniArgs: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const list = isObject(conf.args) && isObject(conf.args.cni) ? conf.args.cni.labels : undefined;
  if (list !== undefined) {
    if (!Array.isArray(list)) throw new CniError(CniErrorCode.InvalidNetworkConfig, 'invalid network config: args.cni.labels must be a list of {"key", "value"}');
    const map: Record<string, unknown> = {};
    list.forEach((l: unknown, i) => {
      if (!isObject(l) || typeof l.key !== 'string' || typeof l.value !== 'string' || Object.keys(l).some((k) => k !== 'key' && k !== 'value')) {
        throw new CniError(CniErrorCode.InvalidNetworkConfig, `invalid network config: args.cni.labels[${i}] must be {"key": "...", "value": "..."}, got ${JSON.stringify(l)}`);
      }
      if (l.key in map) throw new CniError(CniErrorCode.InvalidNetworkConfig, `invalid network config: args.cni.labels: label ${JSON.stringify(l.key)} is given twice`);
      map[l.key] = l.value;
    });
    try {
      Object.assign(out, parseLabels(map, 'args.cni.labels'));
    } catch (err) {
      if (err instanceof PolicyError) throw new CniError(CniErrorCode.InvalidNetworkConfig, `invalid network config: ${err.message}`);
      throw err;
    }
  }
  const ns = cniArgs.K8S_POD_NAMESPACE;
  if (ns !== undefined) {
    if (!LABEL_VALUE.test(ns)) throw new CniError(CniErrorCode.InvalidEnvironment, `invalid environment: CNI_ARGS K8S_POD_NAMESPACE ${JSON.stringify(ns)} is not a Kubernetes namespace name`);
    out[K8S_NAMESPACE_LABEL] = ns;
  }
  const pod = cniArgs.K8S_POD_NAME;
  if (pod !== undefined && LABEL_VALUE.test(pod)) out[K8S_POD_LABEL] = pod;
  return out;
}
