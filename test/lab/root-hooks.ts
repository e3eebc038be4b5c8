/**
 * mocha root hooks: whatever a test file leaves behind in the kernel is
 * removed after the run, and on SIGINT/SIGTERM/exit, even when tests fail.
 *
 * Order matters: processes first (a process inside a namespace keeps nothing
 * alive, but a dying etcd should not see its data dir vanish), then labs'
 * namespaces, then temp dirs and the run directory.
 */
import { removeAllNetns } from './netns';
import { killAllProcessesSync, stopAllProcesses } from './procs';
import { removeAllTempDirs, removeRunDir } from './run-dir';

let installed = false;

/** Synchronous cleanup for the 'exit' handler: nothing asynchronous runs there. */
function cleanupSync(): void {
  killAllProcessesSync();
  removeAllNetns();
  removeAllTempDirs();
  removeRunDir();
}

function installExitHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => cleanupSync());
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      cleanupSync();
      process.exit(130);
    });
  }
}

export const mochaHooks = {
  beforeAll(): void {
    installExitHandlers();
  },
  async afterAll(): Promise<void> {
    await stopAllProcesses();
    removeAllNetns();
    removeAllTempDirs();
    removeRunDir();
  },
};
