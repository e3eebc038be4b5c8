/**
 * mocha root hooks: whatever a test file leaves behind in the kernel is
 * removed after the run, and on SIGINT/SIGTERM/exit, even when tests fail.
 */
import { removeAllNetns } from './netns';

let installed = false;
function installExitHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => removeAllNetns());
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      removeAllNetns();
      process.exit(130);
    });
  }
}

export const mochaHooks = {
  beforeAll(): void {
    installExitHandlers();
  },
  afterAll(): void {
    removeAllNetns();
  },
};
