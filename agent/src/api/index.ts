/** knitd's operator API: what main.ts constructs and what it must implement. */
export { ApiServer, DEFAULT_MAX_RECEIVE_BYTES, DEFAULT_WATCH_QUEUE_LIMIT } from './server';
export type { ApiServerOptions } from './server';
export { ApiConfigError } from './transport';
export type { TcpListenOptions, TlsMaterial } from './transport';
export { RequestError, StateUnavailableError } from './state-source';
export type * from './state-source';
