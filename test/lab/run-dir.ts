/**
 * The run directory: /tmp/knit-lab/run-<pid>/ holds everything on disk one
 * test process makes (etcd data dirs, process logs) plus the records that let
 * a later run clean up after this one if it crashes:
 *
 *   owner.json        { pid, start } of the test process itself
 *   pids/<pid>.json   one per process the lab started: { pid, start, cmd }
 *
 * A process is identified by (pid, start time from /proc/<pid>/stat), never by
 * its name or arguments, so a recycled PID is never mistaken for ours.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Parent of every run directory of every test process on this machine. */
export const LAB_ROOT = '/tmp/knit-lab';

/** This process's run directory (created on first use). */
export const RUN_DIR = join(LAB_ROOT, `run-${process.pid}`);

/** What a pidfile (and owner.json) records. */
export interface PidRecord {
  pid: number;
  /** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat). */
  start: string;
  cmd?: string;
}

let runDirReady = false;

/**
 * Start time of a live process, or undefined when it does not exist.
 * Field 22 of /proc/<pid>/stat; the command name (field 2) may contain
 * spaces and parentheses, so fields are counted after the last ')'.
 */
export function procStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return parseStatStartTime(stat);
}

/** Field 22 (starttime) of a /proc/<pid>/stat line, or undefined if the line is malformed. */
export function parseStatStartTime(stat: string): string | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const start = stat.slice(close + 2).split(' ')[19];
  return start !== undefined && /^\d+$/.test(start) ? start : undefined;
}

/** True when the process recorded in `rec` is still the same live process. */
export function recordAlive(rec: PidRecord): boolean {
  return procStartTime(rec.pid) === rec.start;
}

/** Create (once) this run's directory and its owner record; returns RUN_DIR. */
export function ensureRunDir(): string {
  if (runDirReady) return RUN_DIR;
  mkdirSync(join(RUN_DIR, 'pids'), { recursive: true });
  const owner: PidRecord = { pid: process.pid, start: procStartTime(process.pid) ?? '', cmd: process.argv.join(' ') };
  writeFileSync(join(RUN_DIR, 'owner.json'), JSON.stringify(owner));
  runDirReady = true;
  return RUN_DIR;
}

const tempDirs = new Set<string>();

/** A fresh temporary directory inside the run directory, removed by `removeAllTempDirs`. */
export function makeTempDir(tag: string): string {
  const dir = mkdtempSync(join(ensureRunDir(), `${tag}-`));
  tempDirs.add(dir);
  return dir;
}

/** Remove one directory made by `makeTempDir` (tolerates "already gone"). */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** Remove every temp directory still recorded. Synchronous: safe in an exit handler. */
export function removeAllTempDirs(): void {
  for (const dir of [...tempDirs]) removeTempDir(dir);
}

/** Write the pidfile of a process this run started. */
export function writePidfile(pid: number, cmd: string): void {
  const rec: PidRecord = { pid, start: procStartTime(pid) ?? '', cmd };
  writeFileSync(join(ensureRunDir(), 'pids', `${pid}.json`), JSON.stringify(rec));
}

/** Remove the pidfile of a process that has exited. */
export function removePidfile(pid: number): void {
  try {
    unlinkSync(join(RUN_DIR, 'pids', `${pid}.json`));
  } catch {
    // already gone: removal is idempotent
  }
}

/** Remove this run's whole directory: call only when nothing of the run is left running. */
export function removeRunDir(): void {
  rmSync(RUN_DIR, { recursive: true, force: true });
  tempDirs.clear();
  runDirReady = false;
}
