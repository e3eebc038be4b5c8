/**
 * `${stateDir}/subnet.json`: the subnet this node holds, so that a restart
 * re-acquires the same one even if etcd lost the lease (expired while knitd
 * was down, or etcd restored from an old backup). Written atomically —
 * temp file, fsync, rename, fsync of the directory — so a crash leaves the
 * old file or the new one, never a torn one.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { nodeStateFs, writeFileAtomic } from '../persist/atomic-file';
import { hasErrorCode } from '../base';

/** What the state file holds. */
export interface SubnetState {
  /** "a.b.c.d/len" */
  subnet: string;
  nodeName: string;
  /** ISO time of the write. */
  writtenAt: string;
}

/** Path of the state file in a state directory. */
export function subnetStatePath(stateDir: string): string {
  return path.join(stateDir, 'subnet.json');
}

/**
 * Reads the state file. Returns undefined when absent; throws (with the path)
 * when it exists but cannot be read or does not parse, because silently
 * ignoring it could make the node take a different subnet than its running
 * containers use.
 */
export async function readSubnetState(stateDir: string): Promise<SubnetState | undefined> {
  const file = subnetStatePath(stateDir);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if (hasErrorCode(err, 'ENOENT')) return undefined;
    throw new Error(`read subnet state ${file}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`subnet state ${file} is not JSON; fix or remove it`, { cause: err });
  }
  const o = json as Partial<SubnetState>;
  if (typeof o !== 'object' || o === null || typeof o.subnet !== 'string' || typeof o.nodeName !== 'string') {
    throw new Error(`subnet state ${file} lacks "subnet"/"nodeName"; fix or remove it`);
  }
  return { subnet: o.subnet, nodeName: o.nodeName, writtenAt: typeof o.writtenAt === 'string' ? o.writtenAt : '' };
}

/** Writes the state file atomically (creates the directory if needed). */
export async function writeSubnetState(stateDir: string, state: SubnetState): Promise<void> {
  await fs.mkdir(stateDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(nodeStateFs, subnetStatePath(stateDir), JSON.stringify(state) + '\n');
}

/** Removes the state file (after a clean release); tolerates absence. */
export async function removeSubnetState(stateDir: string): Promise<void> {
  await fs.rm(subnetStatePath(stateDir), { force: true });
}
