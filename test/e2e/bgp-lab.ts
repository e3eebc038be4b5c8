/**
 * BIRD 2 as the lab's router for the BGP tests: started in a namespace with
 * a generated config and its own control socket (the way
 * test/integration/bgp-capture.test.ts starts it), driven with birdc, and
 * helpers to read what the kernel of a namespace holds.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nsIpJson, nsRun } from '../lab/netns';
import { spawnTracked, type LabProcess } from '../lab/procs';
import { makeTempDir, removeTempDir } from '../lab/run-dir';
import { waitFor as pollFor } from '../support/wait';

/** A running BIRD. */
export interface Bird {
  readonly ns: string;
  readonly proc: LabProcess;
  birdc(...args: string[]): string;
  /** Number of BGP protocols in state Established. */
  established(): number;
  /** Stop (SIGTERM), start again on the same config and socket. */
  restart(): Promise<void>;
  /** Stop and remove its directory. */
  destroy(): Promise<void>;
}

/** Waits until `cond` holds (exceptions count as "not yet"); the error carries `detail()`. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms: number, detail: () => string = () => ''): Promise<number> {
  // a probe that throws is "not ready yet" (birdc before BIRD's socket is up)
  return (await pollFor(what, cond, ms, () => `\n${detail()}`, { intervalMs: 100, tolerateErrors: true })).ms;
}

/** Starts BIRD in `ns` with `config`; resolves once its control socket answers. */
export async function startBird(ns: string, config: string, tag = 'bird'): Promise<Bird> {
  const dir = makeTempDir(tag);
  const conf = join(dir, 'bird.conf');
  const ctl = join(dir, 'bird.ctl');
  writeFileSync(conf, config);
  let proc = spawnTracked('bird', ['-f', '-c', conf, '-s', ctl], { ns, tag });
  const birdc = (...args: string[]): string => nsRun(ns, 'birdc', ['-s', ctl, ...args]);
  const ready = async (): Promise<void> => {
    await waitFor('BIRD control socket', () => birdc('show', 'status').includes('Daemon is up and running'), 10_000, () => proc.logTail());
  };
  await ready();
  return {
    ns,
    get proc() { return proc; },
    birdc,
    established: () => (birdc('show', 'protocols').match(/\bEstablished\b/g) ?? []).length,
    async restart() {
      await proc.stop();
      proc = spawnTracked('bird', ['-f', '-c', conf, '-s', ctl], { ns, tag });
      await ready();
    },
    async destroy() {
      await proc.stop();
      removeTempDir(dir);
    },
  };
}

/** A kernel route as `ip -j route` lists it. */
export interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string | number;
}

/** Routes of `ns` (main table) for a family, optionally only one protocol. */
export function routesIn(ns: string, family: 4 | 6, proto?: number): IpRoute[] {
  return nsIpJson<IpRoute[]>(ns, [`-${family}`, 'route', 'show', ...(proto !== undefined ? ['proto', String(proto)] : [])]);
}
