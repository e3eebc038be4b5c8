/**
 * The CNI network configuration list knitd writes for the container runtime
 * (/etc/cni/net.d/10-knit.conflist). knitd owns it: it is rendered from the
 * node's state and rewritten only when its content changes, atomically, so a
 * runtime never reads half a file.
 */
import { mkdirSync, openSync, writeSync, fsyncSync, closeSync, renameSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

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
    cniVersions: ['0.3.1', '0.4.0', '1.0.0', '1.1.0'],
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

/** Writes `content` to `path` by write-fsync-rename; returns false when it was already there. */
export function writeFileAtomicIfChanged(path: string, content: string): boolean {
  try {
    if (readFileSync(path, 'utf8') === content) return false;
  } catch {
    // absent or unreadable: write it
  }
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return true;
}
