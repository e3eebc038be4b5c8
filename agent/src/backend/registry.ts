/**
 * The explicit backend registry: each backend folder exports a
 * BackendFactory and backend/index.ts registers the built-in ones by name, so
 * adding a backend is adding a folder and one line there. No import-time
 * magic inside the folders themselves.
 */
import { NetworkConfigError, parseNetworkConfig, type LeaseBackendData, type NetworkConfig } from '../store';
import type { Backend, BackendContext, BackendFactory } from './types';

/** The one list of backend names: the factories registered by name. */
const factories = new Map<string, BackendFactory>();

/** Register a backend factory; registering another factory for a taken type throws. */
export function registerBackend(factory: BackendFactory): void {
  const have = factories.get(factory.type);
  if (have && have !== factory) throw new Error(`backend ${factory.type} is already registered`);
  factories.set(factory.type, factory);
}

/** Types with a registered backend. */
export function registeredBackendTypes(): string[] {
  return [...factories.keys()];
}

function factoryFor(type: string): BackendFactory {
  const f = factories.get(type);
  if (!f) throw new Error(`no backend registered for type ${type} (registered: ${registeredBackendTypes().join(', ') || 'none'})`);
  return f;
}

/**
 * The network config with its backend section checked by that backend and
 * its defaults filled in. Pure; knitd calls it before anything uses the
 * network, knitctl before it stores one.
 */
export function checkNetworkBackend(network: NetworkConfig): NetworkConfig {
  const f = factories.get(network.backend.type);
  if (!f) {
    throw new NetworkConfigError('backend.type', `unknown backend ${JSON.stringify(network.backend.type)} (known: ${registeredBackendTypes().join(', ')})`);
  }
  return { ...network, backend: f.parseConfig(network.backend, network) };
}

/** A network config document validated whole: the store's fields, then the backend's section. */
export function parseNetwork(json: unknown): NetworkConfig {
  return checkNetworkBackend(parseNetworkConfig(json));
}

/** What this node must publish in its lease for the network's backend (pure; call before acquiring the lease). */
export function backendLeaseData(network: NetworkConfig, nodeName: string): LeaseBackendData {
  return factoryFor(network.backend.type).leaseData(network, nodeName);
}

/** Build the backend the network config names. Does not touch the kernel (call setup()). */
export function createBackend(ctx: BackendContext): Backend {
  return factoryFor(ctx.network.backend.type).create(ctx);
}
