/**
 * One definition per default that more than one module needs. The config
 * schema (config/schema.ts) documents them for operators; knitctl, the API
 * server and the subnet lease manager fall back to the same values.
 */

/** Directory of knitd's sockets and runtime files. */
export const DEFAULT_RUN_DIR = '/run/knit';

/** File name of knitd's CNI socket in the run directory. */
export const CNI_SOCKET_NAME = 'cni.sock';

/** File name of knitd's gRPC API socket in the run directory. */
export const API_SOCKET_NAME = 'knitd.sock';

/** knitd's CNI socket (the plugin forwards every request here). */
export const DEFAULT_CNI_SOCKET = `${DEFAULT_RUN_DIR}/${CNI_SOCKET_NAME}`;

/** knitd's gRPC API socket (knitctl's default). */
export const DEFAULT_API_SOCKET = `${DEFAULT_RUN_DIR}/${API_SOCKET_NAME}`;

/** TTL of a node's subnet lease in etcd, seconds (24 h); renewed at about half of it. */
export const DEFAULT_LEASE_TTL_SECONDS = 86_400;
