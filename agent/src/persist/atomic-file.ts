/**
 * Durable replacement of one small file: write a temporary file in the same
 * directory, fsync it, rename it over the target, fsync the directory. A crash
 * at any point leaves either the old or the new content, never a torn file,
 * and a resolved write survives a power cut.
 *
 * The file system is passed in (`StateFs`) so tests can count renames or make
 * a step fail; `nodeStateFs` is the real one.
 */
import { promises as fsp } from 'fs';
import path from 'path';
import { hasErrorCode } from '../base';

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
}

/** The real file system. */
export const nodeStateFs: StateFs = {
  readFile: (file, encoding) => fsp.readFile(file, encoding),
  open: (file, flags, mode) => fsp.open(file, flags, mode),
  rename: (from, to) => fsp.rename(from, to),
  unlink: (file) => fsp.unlink(file),
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
    const handle = await fs.open(temp, 'w', mode);
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
  } catch (cause) {
    await fs.unlink(temp).catch(() => undefined);
    throw new Error(`write state file ${file}`, { cause });
  }
  // The rename is only durable once the directory entry is: fsync the directory.
  try {
    const dirHandle = await fs.open(dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  } catch (cause) {
    throw new Error(`fsync directory ${dir} of IPAM state file ${file}`, { cause });
  }
}
