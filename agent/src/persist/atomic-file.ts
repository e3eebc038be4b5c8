/**
 * Durable replacement of one small file: write a temporary file in the same
 * directory, fsync it, rename it over the target, fsync the directory. A crash
 * at any point leaves either the old or the new content, never a torn file,
 * and a resolved write survives a power cut.
 *
 * The file system is passed in (`StateFs`) so tests can count renames or make
 * a step fail; `nodeStateFs` is the real one. It does all the steps as one
 * job on libuv's thread pool (knit_netns durableReplace): through
 * fs/promises they are eight thread-pool round trips, each resumed on the
 * main thread, and a CNI ADD or DEL writes two such files.
 */
import { promises as fsp } from 'fs';
import path from 'path';
import { hasErrorCode, loadNativeAddon } from '../base';

/** The part of an open file handle that the atomic write uses. */
export interface StateFileHandle {
  writeFile(data: string, encoding: 'utf8'): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** The file-system calls the state stores make (a subset of fs/promises). */
export interface StateFs {
  readFile(file: string, encoding: 'utf8'): Promise<string>;
  open(file: string, flags: string, mode?: number): Promise<StateFileHandle>;
  rename(from: string, to: string): Promise<void>;
  unlink(file: string): Promise<void>;
  /**
   * All of writeFileAtomic's steps at once (write `temp` with `mode`, fsync,
   * rename over `file`, fsync `dir`), removing `temp` on failure; a failure
   * of the directory's fsync has `path` === `dir`. Without it,
   * writeFileAtomic takes the steps one by one through the calls above.
   */
  replace?(temp: string, file: string, dir: string, data: string, mode: number): Promise<void>;
}

interface DurableAddon {
  durableReplace(temp: string, file: string, dir: string, data: string, mode: number): Promise<void>;
}

/** The addon, or null when it cannot be loaded (the steps are then taken one by one). */
let durable: DurableAddon | null | undefined;

function durableAddon(): DurableAddon | null {
  if (durable === undefined) {
    try {
      durable = loadNativeAddon<DurableAddon>('knit_netns');
    } catch {
      durable = null;
    }
  }
  return durable;
}

/** The real file system. */
export const nodeStateFs: StateFs = {
  readFile: (file, encoding) => fsp.readFile(file, encoding),
  open: (file, flags, mode) => fsp.open(file, flags, mode),
  rename: (from, to) => fsp.rename(from, to),
  unlink: (file) => fsp.unlink(file),
  replace: (temp, file, dir, data, mode) => {
    const addon = durableAddon();
    // (the steps use open, rename and unlink only)
    return addon === null ? replaceInSteps(nodeStateFs, temp, file, dir, data, mode) : addon.durableReplace(temp, file, dir, data, mode);
  },
};

let tempCounter = 0;

/** Name prefix of `file`'s temporary files (writeFileAtomic's naming). */
function tempPrefix(file: string): string {
  return `.${path.basename(file)}.tmp-`;
}

/**
 * Removes the temporary files a crashed writer of `file` left behind
 * (`.<name>.tmp-<pid>-<n>`); call before this process writes `file`.
 * Returns the paths removed.
 */
export async function removeLeftoverTempFiles(file: string): Promise<string[]> {
  const dir = path.dirname(file);
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names.filter((n) => n.startsWith(tempPrefix(file)))) {
    const full = path.join(dir, name);
    await fsp.unlink(full).then(() => removed.push(full), () => undefined);
  }
  return removed;
}

/**
 * Reads `file` as UTF-8; undefined when it does not exist. Any other failure
 * (permissions, EISDIR …) is thrown with the file named.
 */
export async function readIfExists(fs: StateFs, file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (cause) {
    if (hasErrorCode(cause, 'ENOENT')) return undefined;
    throw new Error(`read state file ${file}`, { cause });
  }
}

/**
 * Atomically and durably replaces `file` with `data` (mode 0600 by default:
 * state files list the node's containers). On failure the temporary file is removed and
 * the previous content of `file` is untouched.
 */
export async function writeFileAtomic(fs: StateFs, file: string, data: string, mode = 0o600): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `${tempPrefix(file)}${process.pid}-${++tempCounter}`);
  try {
    await (fs.replace ? fs.replace(temp, file, dir, data, mode) : replaceInSteps(fs, temp, file, dir, data, mode));
  } catch (cause) {
    const atDir = typeof cause === 'object' && cause !== null && (cause as { path?: unknown }).path === dir;
    throw new Error(atDir ? `fsync directory ${dir} of state file ${file}` : `write state file ${file}`, { cause });
  }
}

/** writeFileAtomic's steps one by one through `fs` (StateFs.replace's contract). */
async function replaceInSteps(fs: StateFs, temp: string, file: string, dir: string, data: string, mode: number): Promise<void> {
  try {
    const handle = await fs.open(temp, 'w', mode);
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
  } catch (err) {
    await fs.unlink(temp).catch(() => undefined);
    throw err;
  }
  // The rename is only durable once the directory entry is: fsync the directory.
  try {
    const dirHandle = await fs.open(dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  } catch (err) {
    throw Object.assign(new Error(`fsync ${dir}`, { cause: err }), { path: dir });
  }
}
