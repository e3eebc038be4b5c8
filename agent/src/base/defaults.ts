/**
 * One definition per default that more than one module needs. The config
 * schema (config/schema.ts) documents them for operators; knitctl, the API
 * server and the subnet lease manager fall back to the same values.
 */
import { CNI_SOCKET_NAME, DEFAULT_AGENT_SOCKET, DEFAULT_RUN_DIR } from '../../../cni-wire/protocol';

/**
 * knitd's runtime directory and CNI socket are part of the plugin's wire
 * contract (the plugin's default socket), so cni-wire/protocol.ts defines them.
 */
export { CNI_SOCKET_NAME, DEFAULT_RUN_DIR };

/** File name of knitd's gRPC API socket in the run directory. */
export const API_SOCKET_NAME = 'knitd.sock';

/** knitd's CNI socket (the plugin forwards every request here). */
export const DEFAULT_CNI_SOCKET = DEFAULT_AGENT_SOCKET;

/** knitd's gRPC API socket (knitctl's default). */
export const DEFAULT_API_SOCKET = `${DEFAULT_RUN_DIR}/${API_SOCKET_NAME}`;

/** TTL of a node's subnet lease in etcd, seconds (24 h); renewed at about half of it. */
export const DEFAULT_LEASE_TTL_SECONDS = 86_400;
