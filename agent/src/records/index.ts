/**
 * Domain records that several modules pass between them, defined once: the
 * CNI service stores endpoints, the Docker driver makes them, the operator
 * API reports them, the NAT table is rendered from their port mappings.
 * Types only; the modules that own a record's life (cni/endpoints.ts for
 * Endpoint) validate and persist it.
 */
export type { Endpoint, PortMapping, PortProtocol } from './endpoint';
