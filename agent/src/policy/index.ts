export type { Direction, Peer, Policy, PolicyEndpoint, PolicyProtocol, PortSpec, Rule, Selector } from './types';
export { PolicyError, POLICY_NAME, parseLabels, parsePolicy, parsePolicyFile } from './parse';
export type { AddressRange, CompiledPolicy, CompiledRule, IsolatedAddress, PolicyClass, PortRange } from './compile';
export { classOf, CompileMemo, compileNetwork, selectorMatches, subtractRanges } from './compile';
export type { ConnectionTrace, DirectionVerdict, TraceQuery, TraceResult } from './trace';
export { parsePortRef, TraceError, trace, traceConnection } from './trace';
export { parseEndpointRecord, parsePolicyRecord, parseRecords, policyDocument, RecordCache, sortPolicies } from './records';
