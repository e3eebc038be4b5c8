/**
 * The one polling helper of the tests: wait for a condition instead of
 * sleeping a fixed time (a fixed sleep is either too short on a loaded
 * machine or wasted time on an idle one).
 */

/** Resolves after `ms` milliseconds (for pacing a loop, never for waiting on a condition). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** What a probe answers: a value (done) or false/undefined/null (not yet). */
export type Probe<T> = () => T | false | undefined | null | Promise<T | false | undefined | null>;

/** Options of waitFor. */
export interface WaitOptions {
  /** Pause between probes, ms; default 20. */
  intervalMs?: number;
  /** Treat a probe that throws as "not yet" (e.g. a control socket that is not up); default false: the error fails the wait. */
  tolerateErrors?: boolean;
}

/**
 * Probes until it answers a value other than false/undefined/null and
 * resolves with that value and the time it took; after `timeoutMs` throws
 * "timed out after … waiting for <what>" plus `detail()` (e.g. a log tail).
 */
export async function waitFor<T>(
  what: string, probe: Probe<T>, timeoutMs: number,
  detail?: () => string | Promise<string>, opts: WaitOptions = {},
): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  const interval = opts.intervalMs ?? 20;
  for (;;) {
    let v: T | false | undefined | null;
    try {
      v = await probe();
    } catch (err) {
      if (!opts.tolerateErrors) throw err;
      v = undefined;
    }
    if (v !== undefined && v !== false && v !== null) return { value: v, ms: Date.now() - start };
    if (Date.now() - start > timeoutMs) {
      const more = detail ? await detail() : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${more ? `: ${more}` : ''}`);
    }
    await sleep(interval);
  }
}
