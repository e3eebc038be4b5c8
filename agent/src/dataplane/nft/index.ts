/**
 * knit's nftables table: port mappings (DNAT, hairpin, 127.0.0.1) and outbound
 * NAT, rendered purely from a desired state and applied atomically by NftTable.
 */
export type { NftDesiredState, NftExtraNat, NftNetwork, PortMapping, PortProtocol } from './types';
export { NftValidationError, normalizeDesired } from './validate';
export { renderRuleset, renderRemove, DEFAULT_TABLE, type TableId } from './render';
export { NftTable, type NftTableOptions, type ApplyOptions, type NftJsonObject } from './nft-table';
export { procRouteLocalnet, type RouteLocalnetAccess } from './route-localnet';
export { spawnCommand, type CommandRunner, type CommandResult } from './run-command';
export { runCommand, nftLibraryUnavailable, setNftMode } from './libnftables';
export { POLICY_TABLE, policyRuleset, renderPolicyRemove, renderPolicyRuleset, renderPolicyTable, renderPolicyUpdate, type PolicyRuleset, type PolicySet } from './render-policy';
