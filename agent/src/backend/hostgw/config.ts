/** The host-gw backend's section of the network config: `{"type": "host-gw"}`, no options. */
import { configFields, type BackendSection } from '../../store';

/** host-gw: routes via the peer's public IP; peers must share the L2 segment. */
export type HostGwBackendConfig = { type: 'host-gw' };

/** Validates a host-gw section (it has no fields besides its type). */
export function parseHostGwConfig(section: BackendSection): HostGwBackendConfig {
  configFields.refuseUnknown(section, ['type'], 'backend');
  return { type: 'host-gw' };
}
