/**
 * Per-lease planning outcomes kept between reconcile runs, valid for one
 * planning environment (what planning reads besides the lease: device
 * indexes, the underlay's prefixes, ...). The peer tracker hands out the same
 * Lease object while a lease is unchanged, so a run after one peer's change
 * plans only that peer instead of every peer (address parsing, segment
 * checks, building objects), and an unchanged peer keeps its plan object,
 * which is how the reconciler's scoped runs see it is unchanged
 * (dataplane/reconcile/diff-changed.ts). Checks across peers (vxlan: no two
 * peers with one VTEP MAC) still run over all of them in the backend.
 */
import type { Cidr } from '../net/ip';
import type { Ipv4Cidr } from '../net/ipv4';
import type { Lease } from '../store';

export class PlanCache<T> {
  private outcomes = new WeakMap<Lease, T>();
  private envKey: string | undefined;

  /** The outcomes for the environment `envKey` stands for: emptied when the key changed. */
  forEnv(envKey: string): WeakMap<Lease, T> {
    if (envKey !== this.envKey) {
      this.outcomes = new WeakMap();
      this.envKey = envKey;
    }
    return this.outcomes;
  }
}

/** The outcome of `lease` from `outcomes` (a PlanCache's), planned and kept there when missing. */
export function cachedPlan<T>(outcomes: WeakMap<Lease, T> | undefined, lease: Lease, plan: (lease: Lease) => T): T {
  let o = outcomes?.get(lease);
  if (o === undefined) {
    o = plan(lease);
    outcomes?.set(lease, o);
  }
  return o;
}

/** Connected prefixes as part of an environment key. */
export function prefixesKey(v4: readonly Ipv4Cidr[], v6: readonly Cidr[]): string {
  return [...v4.map((p) => `${p.network}/${p.prefixLength}`), ...v6.map((p) => `${p.network}/${p.prefixLength}`)].join(',');
}
