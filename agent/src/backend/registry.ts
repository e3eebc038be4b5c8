/**
 * The explicit backend registry: each backend folder exports a
 * BackendFactory and backend/index.ts registers the built-in ones by name, so
 * adding a backend is adding a folder and one line there. No import-time
 * magic inside the folders themselves.
 */
import type { LeaseBackendData, BackendType, NetworkConfig } from '../store';
import type { Backend, BackendContext, BackendFactory } from './types';

const factories = new Map<BackendType, BackendFactory>();

/** Register a backend factory; registering another factory for a taken type throws. */
export function registerBackend(factory: BackendFactory): void {
  const have = factories.get(factory.type);
  if (have && have !== factory) throw new Error(`backend ${factory.type} is already registered`);
  factories.set(factory.type, factory);
}

/** Types with a registered backend. */
export function registeredBackendTypes(): BackendType[] {
  return [...factories.keys()];
}

function factoryFor(type: BackendType): BackendFactory {
  const f = factories.get(type);
  if (!f) throw new Error(`no backend registered for type ${type} (registered: ${registeredBackendTypes().join(', ') || 'none'})`);
  return f;
}

/** What this node must publish in its lease for the network's backend (pure; call before acquiring the lease). */
export function backendLeaseData(network: NetworkConfig, nodeName: string): LeaseBackendData {
  return factoryFor(network.backend.type).leaseData(network, nodeName);
}

/** Build the backend the network config names. Does not touch the kernel (call setup()). */
export function createBackend(ctx: BackendContext): Backend {
  return factoryFor(ctx.network.backend.type).create(ctx);
}
