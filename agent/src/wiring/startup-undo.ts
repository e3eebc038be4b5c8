/**
 * What a knitd start-up made, so a start that fails part-way removes it
 * again (the CNI reference plugins' "a failed ADD undoes its partial work",
 * applied to start-up). Without it a start that died after taking a lease
 * and creating the VXLAN device left both behind, and every later start
 * tripped over them.
 *
 * Only what THIS start created is recorded: a bridge, device, lease or file
 * that a previous knitd left (and running containers use) is never undone.
 * Once knitd is ready, `commit()` forgets the steps.
 */
import type { Logger } from '../log/logger';
import { errorMessage } from '../base';

interface Step {
  what: string;
  undo: () => Promise<void> | void;
}

export class StartupUndo {
  private steps: Step[] = [];

  constructor(private readonly log: Logger) {}

  /** Records a step to undo if start-up fails (undone in reverse order). */
  add(what: string, undo: () => Promise<void> | void): void {
    this.steps.push({ what, undo });
  }

  /** Start-up succeeded: nothing to undo any more. */
  commit(): void {
    this.steps = [];
  }

  /** Undoes every recorded step, newest first; a failing step is logged and the rest still run. */
  async run(): Promise<void> {
    const steps = this.steps.reverse();
    this.steps = [];
    for (const s of steps) {
      try {
        await s.undo();
        this.log.info('start-up failed: undone', { what: s.what });
      } catch (err) {
        this.log.error('start-up failed: could not undo', { what: s.what, error: errorMessage(err) });
      }
    }
  }
}
