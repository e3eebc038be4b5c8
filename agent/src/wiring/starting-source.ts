/**
 * The state source the API and the probes serve from the first moment of
 * start-up. knitd opens its API and /healthz, /readyz before it waits for
 * etcd: a knitd that cannot reach etcd is alive (a liveness probe must not
 * restart it in a loop) but not ready, and says why — "waiting for etcd:
 * <reason>" in /readyz and in the API's GetNode (`knitctl status`) —
 * instead of serving nothing, which knitctl could only report as "is knitd
 * running?".
 *
 * Until `ready()` hands it the full source, calls that need etcd or the
 * node's state answer UNAVAILABLE with the current start-up step; after,
 * every call is the full source's.
 */
import { EventEmitter } from 'node:events';
import type { BgpStateSource, ConditionInfo, EndpointInfo, KnitStateSource, NetworkSource, PolicySource, NodeInfo, PeerInfo, StateChange, SubnetList } from '../api';
import { StateUnavailableError } from '../api';
import type { KnitdStateSource } from './state-source';

/** What is known about the node before start-up is done. */
export interface EarlyNodeFacts {
  name: string;
  bridge: string;
  mode: NodeInfo['mode'];
  publicIp: string;
  versions: NodeInfo['versions'];
  startedAt: Date;
}

export class StartingStateSource implements KnitStateSource {
  private readonly events = new EventEmitter<{ change: [change: StateChange] }>();
  private full: KnitdStateSource | undefined;
  private step: string;

  constructor(private readonly node: EarlyNodeFacts, firstStep: string) {
    this.events.setMaxListeners(0);
    this.step = firstStep;
  }

  /** What start-up is doing now, e.g. "waiting for etcd: connect ECONNREFUSED 192.168.77.1:2379". */
  setStep(step: string): void {
    if (this.full || step === this.step) return;
    this.step = step;
    this.events.emit('change', { kind: 'node', node: this.getNode() } satisfies StateChange);
  }

  /** Start-up is done: from now on every call is answered by `full`. */
  ready(full: KnitdStateSource): void {
    this.full = full;
    full.subscribe((change) => this.events.emit('change', change));
    this.events.emit('change', { kind: 'node', node: full.getNode() } satisfies StateChange);
  }

  get networks(): NetworkSource | undefined {
    return this.full?.networks;
  }

  get policies(): PolicySource | undefined {
    return this.full?.policies;
  }

  get bgp(): BgpStateSource | undefined {
    return this.full?.bgp;
  }

  getNode(): NodeInfo {
    if (this.full) return this.full.getNode();
    const n = this.node;
    return {
      name: n.name, publicIp: n.publicIp, mtu: 0, bridge: n.bridge, mode: n.mode, backend: { type: 'none' },
      health: this.health(), readiness: this.readiness(), versions: n.versions, startedAt: n.startedAt,
    };
  }

  listSubnets(): SubnetList | Promise<SubnetList> {
    return this.full ? this.full.listSubnets() : this.unavailable();
  }

  listPeers(): PeerInfo[] | Promise<PeerInfo[]> {
    return this.full ? this.full.listPeers() : this.unavailable();
  }

  endpointsVersion(): number | undefined {
    return this.full?.endpointsVersion();
  }

  listEndpoints(): EndpointInfo[] | Promise<EndpointInfo[]> {
    return this.full ? this.full.listEndpoints() : this.unavailable();
  }

  subscribe(listener: (change: StateChange) => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  /** Alive while starting: the process works, it is waiting for something outside. */
  health(): ConditionInfo {
    return this.full ? this.full.health() : { ok: true, reasons: [] };
  }

  readiness(): ConditionInfo {
    return this.full ? this.full.readiness() : { ok: false, reasons: [this.step] };
  }

  private unavailable(): never {
    throw new StateUnavailableError(`knitd is starting: ${this.step}`);
  }
}
