/**
 * mocha root hooks: whatever a test file leaves behind in the kernel is
 * removed after the run, and on SIGINT/SIGTERM/exit, even when tests fail.
 *
 * Before the run, `sweepStrays` removes what earlier crashed runs left
 * (see sweep.ts: only what provably belongs to a dead run).
 *
 * Order matters: processes first (a process inside a namespace keeps nothing
 * alive, but a dying etcd should not see its data dir vanish), then labs'
 * namespaces, then temp dirs and the run directory.
 */
import { teardownAllLabs } from './lab';
import { removeAllNetns } from './netns';
import { killAllProcessesSync, stopAllProcesses } from './procs';
import { removeAllTempDirs, removeRunDir } from './run-dir';
import { sweepStrays } from './sweep';

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
    const swept = sweepStrays();
    const n = swept.namespaces.length + swept.links.length + swept.processes.length + swept.runDirs.length;
    if (n > 0) process.stderr.write(`lab: removed leftovers of crashed runs: ${JSON.stringify(swept)}\n`);
  },
  async afterAll(): Promise<void> {
    await teardownAllLabs();
    await stopAllProcesses();
    removeAllNetns();
    removeAllTempDirs();
    removeRunDir();
  },
};
