/**
 * An after-hook's cleanup as a list of steps that all run. Written as a chain
 * of awaits, a knitd whose destroy throws would skip the lab's teardown and
 * leave its namespaces behind for the rest of the run (seen in CI). Order is
 * kept (processes before the namespaces they live in); the first failure is
 * rethrown as it was, after the last step, so mocha reports the real cause;
 * later failures are printed, since they are usually its consequences.
 */
export type CleanupStep = () => unknown;

export async function cleanupAll(steps: ReadonlyArray<CleanupStep>): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      failures.push(err);
    }
  }
  for (const later of failures.slice(1)) console.log(`      (cleanup, another step failed too: ${later instanceof Error ? later.message : String(later)})`);
  if (failures.length > 0) throw failures[0];
}
