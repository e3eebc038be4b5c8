/**
 * The policy model of issue 18 (docs/policy.md). A policy belongs to one
 * network and selects endpoints of that network by labels; its rules only
 * add allowances (Kubernetes NetworkPolicy semantics).
 */

/** Label equality selector: every key must be present with that value. `{}` selects every endpoint of the network. */
export type Selector = Readonly<Record<string, string>>;

export type PolicyProtocol = 'TCP' | 'UDP' | 'SCTP';

/** One port or an inclusive range `port..endPort`. No port means every port of the protocol. */
export interface PortSpec {
  readonly protocol: PolicyProtocol;
  readonly port?: number;
  readonly endPort?: number;
}

/** A peer: endpoints of the policy's network by labels, or addresses by CIDR minus exceptions. */
export type Peer =
  | { readonly selector: Selector }
  | { readonly cidr: string; readonly except: readonly string[] };

/** One rule: peers (empty = every peer) and ports (empty = every port and protocol). */
export interface Rule {
  readonly peers: readonly Peer[];
  readonly ports: readonly PortSpec[];
}

export interface Policy {
  readonly name: string;
  readonly network: string;
  readonly selector: Selector;
  /** undefined: the policy has no ingress section and does not isolate ingress. */
  readonly ingress?: readonly Rule[];
  readonly egress?: readonly Rule[];
}

/** An endpoint as every node sees it (etcd): where it lives, its labels, its addresses. */
export interface PolicyEndpoint {
  /** stable id (container id + interface) */
  readonly id: string;
  readonly network: string;
  readonly labels: Readonly<Record<string, string>>;
  /** IPv4 and/or IPv6 addresses, without prefix length */
  readonly addresses: readonly string[];
}

export type Direction = 'ingress' | 'egress';
