/**
 * The demo's state file (<dir>/state.json): every namespace and process the
 * demo made, written after each step, so that `--down` (or the clean-up of
 * a failed run) finds and removes exactly what was made, and nothing else.
 *
 * Processes are identified by PID and start time (field 22 of
 * /proc/<pid>/stat): a PID recycled by an unrelated process is never
 * signalled.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One process the demo started. */
export interface DemoProcess {
  name: string;
  pid: number;
  /** Start time in clock ticks since boot. */
  start: string;
  log: string;
}

/** Everything a demo cluster consists of. */
export interface DemoState {
  prefix: string;
  dir: string;
  createdAt: string;
  backend: string;
  /** Namespaces in creation order (removed in reverse). */
  namespaces: string[];
  processes: DemoProcess[];
}

/** Path of the state file in `dir`. */
export function statePath(dir: string): string {
  return join(dir, 'state.json');
}

/** Writes the state atomically (rename), creating the directory. */
export function saveState(state: DemoState): void {
  mkdirSync(state.dir, { recursive: true });
  const file = statePath(state.dir);
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}

/** The state in `dir`, or undefined when there is none. Throws when it exists but does not parse. */
export function loadState(dir: string): DemoState | undefined {
  const file = statePath(dir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DemoState;
  } catch (cause) {
    throw new Error(`demo state ${file} does not parse; remove it after checking 'ip netns list'`, { cause });
  }
}

/** Start time of a live process, or undefined when it does not exist. */
export function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** True while the recorded process is still the same live process. */
export function alive(p: DemoProcess): boolean {
  return procStart(p.pid) === p.start;
}

function signal(p: DemoProcess, sig: NodeJS.Signals): void {
  if (!alive(p)) return;
  try {
    process.kill(p.pid, sig);
  } catch {
    // exited between the check and the signal
  }
}

async function waitGone(ps: DemoProcess[], ms: number): Promise<DemoProcess[]> {
  const deadline = Date.now() + ms;
  let left = ps.filter(alive);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    left = left.filter(alive);
  }
  return left;
}

/** Namespaces whose name carries `prefix` (what a killed demo could have left without a state entry). */
export function prefixedNamespaces(prefix: string): string[] {
  try {
    return readdirSync('/var/run/netns').filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
}

/**
 * Removes a demo cluster: knitds first (SIGTERM; they leave the kernel alone),
 * then etcd, then SIGKILL for anything that did not stop within 5 s, then
 * every namespace (containers, nodes, underlay: deleting a namespace deletes
 * its links), then the directory. Idempotent. Returns what was left that it
 * could not remove (empty on success).
 */
export async function teardown(state: DemoState): Promise<string[]> {
  const knitds = state.processes.filter((p) => p.name !== 'etcd');
  const others = state.processes.filter((p) => p.name === 'etcd');
  for (const group of [knitds, others]) {
    for (const p of group) { signal(p, 'SIGTERM'); signal(p, 'SIGCONT'); }
    for (const p of await waitGone(group, 5000)) signal(p, 'SIGKILL');
  }
  const stuck = (await waitGone(state.processes, 3000)).map((p) => `process ${p.name} (pid ${p.pid})`);
  const names = [...new Set([...state.namespaces].reverse().concat(prefixedNamespaces(state.prefix)))];
  const present = names.filter((n) => existsSync(`/var/run/netns/${n}`));
  if (present.length > 0) {
    spawnSync('ip', ['-force', '-batch', '-'], { input: present.map((n) => `netns del ${n}`).join('\n') + '\n', stdio: ['pipe', 'ignore', 'ignore'] });
  }
  const left = [...stuck, ...present.filter((n) => existsSync(`/var/run/netns/${n}`)).map((n) => `netns ${n}`)];
  if (left.length === 0) rmSync(state.dir, { recursive: true, force: true });
  return left;
}
