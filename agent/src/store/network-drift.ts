/**
 * How the network config stored in etcd differs from the one a running
 * knitd uses. knitd reads the config once, at start-up, and never re-plans
 * a running node from a changed one (renumbering would cut every container
 * off); but a deleted or replaced `/knit/v1/network` means the cluster and
 * this node no longer agree, which the operator must hear about: it is
 * logged at error level and shown in readiness until the stored config
 * matches again. Pure: text in, description out.
 */
import { formatNetworkConfig, parseNetworkConfigText, type NetworkConfig } from './network-config';
import { errorMessage } from '../base';

/**
 * Undefined when `stored` (the key's text, undefined when deleted) is the
 * config in use; otherwise what is wrong, e.g. "was deleted" or "was
 * replaced (clusterCidr 10.244.0.0/16 -> 10.99.0.0/16)". `checkBackend` is
 * the backend's check of its own section (backend/'s checkNetworkBackend):
 * it fills that section's defaults, so a document that leaves them out is
 * the same config, and refuses a section that does not validate.
 */
export function networkConfigDrift(
  inUse: NetworkConfig, stored: string | undefined, checkBackend: (c: NetworkConfig) => NetworkConfig,
): string | undefined {
  if (stored === undefined) return 'was deleted';
  let now: NetworkConfig;
  try {
    now = checkBackend(parseNetworkConfigText(stored));
  } catch (err) {
    return `was replaced by one that does not validate (${errorMessage(err)})`;
  }
  if (formatNetworkConfig(now) === formatNetworkConfig(inUse)) return undefined;
  const a = inUse as unknown as Record<string, unknown>;
  const b = now as unknown as Record<string, unknown>;
  const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => `${k} ${show(a[k])} -> ${show(b[k])}`);
  return `was replaced (${fields.join(', ')})`;
}

function show(v: unknown): string {
  return v === undefined ? '(unset)' : typeof v === 'string' ? v : JSON.stringify(v);
}
