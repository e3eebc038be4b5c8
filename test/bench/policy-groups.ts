/**
 * The policy set the policy benches stand up (policy-convergence, nft-write):
 * N groups g0 … g(N-1); policy pK selects gK, lets in g(K+1) on TCP `port`
 * and 8000-8100, and lets out to g(K-1) and to 192.0.2.0/24 except
 * 192.0.2.128/25. Endpoint i is in group i mod N, at an address outside the
 * pods' subnets.
 */

/** The group name of index `i` among `groups`. */
export function groupOf(i: number, groups: number): string {
  return `g${(i + groups) % groups}`;
}

/** Policy pK of `groups` as JSON (what etcd holds and `parsePolicyFile` reads). */
export function groupPolicy(k: number, groups: number, port = 80): string {
  return JSON.stringify({
    name: `p${k}`, network: 'default', selector: { app: groupOf(k, groups) },
    ingress: [{ from: [{ selector: { app: groupOf(k + 1, groups) } }], ports: [{ protocol: 'TCP', port }, { protocol: 'TCP', port: 8000, endPort: 8100 }] }],
    egress: [{ to: [{ selector: { app: groupOf(k - 1, groups) } }, { cidr: '192.0.2.0/24', except: ['192.0.2.128/25'] }] }],
  });
}

/** Endpoint i's address: 10.244.200.2 onwards, 250 per /24. */
export function endpointAddress(i: number): string {
  return `10.244.${200 + Math.floor(i / 250)}.${(i % 250) + 2}`;
}
