/**
 * The CNI network configuration list knitd writes for the container runtime
 * (/etc/cni/net.d/10-knit.conflist). knitd owns it: it is rendered from the
 * node's state and rewritten only when its content changes, atomically, so a
 * runtime never reads half a file.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { nodeStateFs, readIfExists, writeFileAtomic } from '../persist/atomic-file';
import { SUPPORTED_VERSIONS } from '../../../cni-wire/spec';

export interface ConflistSpec {
  networkName: string;
  agentSocket: string;
  mtu: number;
  bridge: string;
  subnet: string;
}

export function renderConflist(spec: ConflistSpec): string {
  const conf = {
    cniVersion: '1.1.0',
    // every version the plugin serves (cni-wire/spec.ts SUPPORTED_VERSIONS)
    cniVersions: [...SUPPORTED_VERSIONS],
    name: spec.networkName,
    plugins: [
      {
        type: 'knit',
        agentSocket: spec.agentSocket,
        // Informational: knitd decides bridge, subnet and MTU itself.
        bridge: spec.bridge,
        subnet: spec.subnet,
        mtu: spec.mtu,
        capabilities: { portMappings: true },
      },
    ],
  };
  return JSON.stringify(conf, null, 2) + '\n';
}

/** Writes `content` to `path` atomically; resolves false when it was already there. */
export async function writeFileAtomicIfChanged(path: string, content: string): Promise<boolean> {
  if ((await readIfExists(nodeStateFs, path)) === content) return false;
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(nodeStateFs, path, content, 0o644);
  return true;
}
