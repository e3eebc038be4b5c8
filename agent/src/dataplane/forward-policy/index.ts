/** Forwarded cluster traffic against DROP forward policies: knit's iptables accepts, and reports of chains it cannot fix. */
export { ForwardGuard, FORWARD_RULE_COMMENT, type ForwardGuardOptions } from './guard';
export { blockingForwardChains, chainName, type BlockingChain } from './scan';
