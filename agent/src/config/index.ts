/**
 * knitd configuration: the public surface of agent/src/config. main.ts calls
 * `helpRequested`/`helpText` and `loadConfig`; the docs test calls
 * `renderConfigReference`.
 */
export { loadConfig } from './load';
export type { LoadConfigInput } from './load';
export { ConfigError } from './errors';
export { helpRequested } from './sources';
export { helpText, renderConfigReference, REFERENCE_BEGIN, REFERENCE_END } from './reference';
export { FIELDS } from './schema';
export type { FieldSpec } from './schema';
export type { ConfigSource, EtcdConfig, GrpcConfig, KnitdConfig } from './types';
