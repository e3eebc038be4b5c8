/**
 * knitd's unix socket files (the CNI socket, the gRPC API socket): root-only
 * from the first instant, never stolen from a live knitd, cleared when a
 * crashed one left them behind.
 *
 * The server binds the socket itself, so its mode cannot be set before the bind.
 * Instead the socket is bound inside a fresh 0700 directory next to the
 * final path, chmod'ed to 0600 there, and renamed into place: nobody can
 * connect before the mode is right (a bound socket keeps working when its
 * file is renamed on Linux).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { hasErrorCode } from '../base';

/** Linux sun_path holds 107 bytes plus the NUL. */
const MAX_SUN_PATH = 107;

/**
 * Removes `socketPath` if it is a socket nobody answers on. Rejects when a
 * process serves it or when the path is something else than a socket.
 */
export async function removeStaleSocket(socketPath: string, what = 'API'): Promise<void> {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(socketPath);
  } catch (e) {
    if (hasErrorCode(e, 'ENOENT')) return;
    throw new Error(`inspect ${what} socket path ${socketPath}`, { cause: e });
  }
  if (!st.isSocket()) throw new Error(`${what} socket path ${socketPath} exists and is not a socket; not removing it`);
  const alive = await new Promise<boolean>((resolve, reject) => {
    const probe = net.createConnection({ path: socketPath });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') resolve(false);
      else reject(new Error(`probe ${what} socket ${socketPath}`, { cause: e }));
    });
  });
  if (alive) throw new Error(`${what} socket ${socketPath} is in use by another process (another knitd?)`);
  fs.unlinkSync(socketPath);
}

/** A private place to bind in before the socket is moved to its path. */
export interface StagedSocket {
  /** Where to bind: `<dir>/.<name>.<pid>.d/s`. */
  bindPath: string;
  /** Moves the bound socket to its final path (0600) and removes the staging dir. Returns its inode. */
  publish(): number;
  /** Removes the staging directory and whatever is in it (bind failed). */
  discard(): void;
}

/**
 * Creates the parent directory (0755) and a 0700 staging directory next to
 * `socketPath`, after clearing a stale socket there.
 */
export async function stageSocket(socketPath: string, what = 'API'): Promise<StagedSocket> {
  if (!path.isAbsolute(socketPath)) throw new Error(`${what} socket path ${socketPath} must be absolute`);
  const dir = path.dirname(socketPath);
  const stage = path.join(dir, `.${path.basename(socketPath)}.${process.pid}.d`);
  const bindPath = path.join(stage, 's');
  if (Buffer.byteLength(socketPath) > MAX_SUN_PATH || Buffer.byteLength(bindPath) > MAX_SUN_PATH) {
    throw new Error(`${what} socket path ${socketPath} is too long for a unix socket (at most ${MAX_SUN_PATH - 16} bytes here)`);
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  await removeStaleSocket(socketPath, what);
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage, { mode: 0o700 });
  return {
    bindPath,
    publish(): number {
      fs.chmodSync(bindPath, 0o600);
      fs.renameSync(bindPath, socketPath);
      fs.rmdirSync(stage);
      return fs.lstatSync(socketPath).ino;
    },
    discard(): void {
      fs.rmSync(stage, { recursive: true, force: true });
    },
  };
}

/** Removes the socket file if it is still the one we made (same inode). */
export function unlinkOwnSocket(socketPath: string, inode: number, what = 'API'): void {
  try {
    if (fs.lstatSync(socketPath).ino === inode) fs.unlinkSync(socketPath);
  } catch (e) {
    if (!hasErrorCode(e, 'ENOENT')) throw new Error(`remove ${what} socket ${socketPath}`, { cause: e });
  }
}
