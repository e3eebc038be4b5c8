/**
 * Removal of leftovers of earlier test runs that crashed (SIGKILL, OOM,
 * power loss) before their own teardown ran. Run once at the start of a
 * mocha run (root hook beforeAll).
 *
 * Other test processes run on this machine at the same time, so the sweep
 * only touches what it can prove belongs to a dead run:
 *
 * - namespaces and root-namespace links named "t-<hhhh>-…" (or with the
 *   KNIT_LAB_PREFIX tag instead of "t"), where hhhh is
 *   the creating process's pid & 0xffff, only when NO live process has that
 *   pid key (a recycled PID makes us skip a stray, never delete a live one);
 * - processes only through the pidfiles a run wrote under
 *   /tmp/knit-lab/run-<pid>/pids/, only when that run's owner is dead, and
 *   only when the recorded start time still matches (so a recycled PID is
 *   never killed). Nothing is ever killed by name or argument pattern.
 */
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { labTag, run } from './netns';
import { LAB_ROOT, type PidRecord, procStartTime, recordAlive } from './run-dir';

/** What `sweepStrays` removed. */
export interface SweepReport {
  namespaces: string[];
  links: string[];
  processes: number[];
  runDirs: string[];
}

/** "t-<hhhh>-…" and, with KNIT_LAB_PREFIX set, "<tag>-<hhhh>-…" (netns.ts). */
const LAB_NAME = new RegExp(`^(?:t|${labTag()})-([0-9a-f]{4})-`);

/** The pid key (pid & 0xffff) encoded in a lab name, or undefined for names that are not the lab's. */
export function labNamePidKey(name: string): number | undefined {
  const m = LAB_NAME.exec(name);
  return m ? parseInt(m[1], 16) : undefined;
}

/** Lab names whose creating run is dead: no live process has their pid key. */
export function strayNames(names: string[], livePidKeys: ReadonlySet<number>): string[] {
  return names.filter((n) => {
    const key = labNamePidKey(n);
    return key !== undefined && !livePidKeys.has(key);
  });
}

/** pid & 0xffff of every process alive now (zombies included: conservative). */
export function livePidKeys(): Set<number> {
  const keys = new Set<number>();
  for (const entry of readdirSync('/proc')) if (/^\d+$/.test(entry)) keys.add(Number(entry) & 0xffff);
  return keys;
}

function readRecord(path: string): PidRecord | undefined {
  try {
    const rec = JSON.parse(readFileSync(path, 'utf8')) as Partial<PidRecord>;
    return typeof rec.pid === 'number' && typeof rec.start === 'string' ? { pid: rec.pid, start: rec.start } : undefined;
  } catch {
    return undefined;
  }
}

/** True when the run owning `dir` (/tmp/knit-lab/run-<pid>) is still alive. */
function runAlive(dir: string, name: string): boolean {
  const owner = readRecord(join(dir, 'owner.json'));
  if (owner) return recordAlive(owner);
  // No owner record yet (a run between mkdir and write) or a damaged one: judge by the PID in the name.
  const m = /^run-(\d+)$/.exec(name);
  return m ? procStartTime(Number(m[1])) !== undefined : true;
}

/** Kill processes of dead runs (by pidfile) and delete those runs' directories. */
function sweepRunDirs(report: SweepReport): void {
  let entries: string[];
  try {
    entries = readdirSync(LAB_ROOT);
  } catch {
    return; // no lab has ever run here
  }
  for (const name of entries) {
    const dir = join(LAB_ROOT, name);
    if (!/^run-\d+$/.test(name) || runAlive(dir, name)) continue;
    let pidfiles: string[] = [];
    try {
      pidfiles = readdirSync(join(dir, 'pids'));
    } catch {
      // no pidfiles: nothing to kill
    }
    for (const f of pidfiles) {
      const rec = readRecord(join(dir, 'pids', f));
      if (!rec || !recordAlive(rec)) continue;
      try {
        process.kill(rec.pid, 'SIGKILL');
        report.processes.push(rec.pid);
      } catch {
        // exited meanwhile
      }
    }
    rmSync(dir, { recursive: true, force: true });
    report.runDirs.push(dir);
  }
}

/** Remove leftovers of crashed earlier runs; never anything of a live run. */
export function sweepStrays(): SweepReport {
  const report: SweepReport = { namespaces: [], links: [], processes: [], runDirs: [] };
  // Processes first: a stray etcd must be gone before its namespace is.
  sweepRunDirs(report);
  const live = livePidKeys();
  let netns: string[] = [];
  try {
    netns = readdirSync('/var/run/netns');
  } catch {
    // no named namespaces at all
  }
  for (const ns of strayNames(netns, live)) {
    try {
      run('ip', ['netns', 'del', ns]);
      report.namespaces.push(ns);
    } catch {
      // deleted concurrently by someone else's sweep
    }
  }
  const links = (JSON.parse(run('ip', ['-j', 'link', 'show']) || '[]') as Array<{ ifname?: string }>)
    .map((l) => l.ifname ?? '');
  for (const link of strayNames(links, live)) {
    try {
      run('ip', ['link', 'del', link]);
      report.links.push(link);
    } catch {
      // gone already (e.g. the peer of a veth deleted just before)
    }
  }
  return report;
}
