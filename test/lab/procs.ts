/**
 * Long-running processes the lab starts (etcd, knitd, bird, iperf3 …),
 * optionally inside a network namespace, tracked by PID so that nothing
 * outlives the test run:
 *
 * - every process gets a pidfile in the run directory (see run-dir.ts) so a
 *   later run can kill it if this one crashes;
 * - `stopAllProcesses()` (root hook afterAll) ends them with SIGTERM, then
 *   SIGKILL; `killAllProcessesSync()` (process 'exit' handler) SIGKILLs them
 *   synchronously, because an exit handler cannot wait.
 *
 * Output goes to a log file, not a pipe: a pipe nobody reads fills up and
 * blocks the child (etcd logs a lot).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureRunDir, removePidfile, writePidfile } from './run-dir';

/** How a tracked process ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A process started by `spawnTracked`. */
export interface LabProcess {
  readonly pid: number;
  /** Namespace it runs in, or undefined for the root namespace. */
  readonly ns: string | undefined;
  /** File holding its stdout and stderr. */
  readonly logPath: string;
  /** Resolves when it has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /** True until it has exited. */
  running(): boolean;
  /** Send a signal; no-op once exited. */
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM (and SIGCONT, in case it is stopped), then SIGKILL after `graceMs`; resolves once exited. */
  stop(graceMs?: number): Promise<ExitInfo>;
  /** SIGKILL; resolves once exited. */
  kill(): Promise<ExitInfo>;
  /** The last `bytes` of its log, for error messages. */
  logTail(bytes?: number): string;
}

/** Options of `spawnTracked`. */
export interface SpawnOptions {
  /** Run inside this network namespace (ip netns exec, which execs in place: the PID is the command's own). */
  ns?: string;
  /** Environment; default: this process's environment. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Short label for the log file name; default: the command's base name. */
  tag?: string;
}

const live = new Map<number, LabProcess>();
let logCounter = 0;

/** Start `cmd args` (inside `opts.ns` if given) and track it until it exits. */
export function spawnTracked(cmd: string, args: string[], opts: SpawnOptions = {}): LabProcess {
  const dir = ensureRunDir();
  logCounter += 1;
  const tag = (opts.tag ?? cmd.split('/').pop() ?? 'proc').replace(/[^A-Za-z0-9_.-]/g, '_');
  const logPath = join(dir, `${tag}-${logCounter}.log`);
  const fd = openSync(logPath, 'a');
  const [file, argv] = opts.ns ? ['ip', ['netns', 'exec', opts.ns, cmd, ...args]] : [cmd, args];
  let child;
  try {
    child = spawn(file, argv, { stdio: ['ignore', fd, fd], env: opts.env ?? process.env, cwd: opts.cwd });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) {
    throw new Error(`spawn ${cmd} ${args.join(' ')}${opts.ns ? ` in netns ${opts.ns}` : ''}: no pid (see ${logPath})`);
  }
  const pid = child.pid;
  writePidfile(pid, `${file} ${argv.join(' ')}`);
  let done = false;
  const exited = new Promise<ExitInfo>((resolve) => {
    const finish = (info: ExitInfo): void => {
      if (done) return;
      done = true;
      live.delete(pid);
      removePidfile(pid);
      resolve(info);
    };
    child.once('exit', (code, signal) => finish({ code, signal }));
    child.once('error', () => finish({ code: null, signal: null }));
  });
  // The test process must not stay alive just because a lab process does;
  // but while someone waits for the exit, the child must keep the event loop
  // alive, or node would quit with the wait unresolved.
  child.unref();
  const waitExit = async (): Promise<ExitInfo> => {
    if (done) return exited;
    child.ref();
    try {
      return await exited;
    } finally {
      child.unref();
    }
  };

  const signal = (sig: NodeJS.Signals): void => {
    if (done) return;
    try {
      process.kill(pid, sig);
    } catch {
      // ESRCH: it exited between our check and the signal
    }
  };
  const proc: LabProcess = {
    pid,
    ns: opts.ns,
    logPath,
    exited,
    running: () => !done,
    signal,
    async stop(graceMs = 3000): Promise<ExitInfo> {
      if (done) return exited;
      signal('SIGTERM');
      signal('SIGCONT');
      const timer = setTimeout(() => signal('SIGKILL'), graceMs);
      try {
        return await waitExit();
      } finally {
        clearTimeout(timer);
      }
    },
    async kill(): Promise<ExitInfo> {
      signal('SIGKILL');
      return waitExit();
    },
    logTail(bytes = 2000): string {
      try {
        const text = readFileSync(logPath, 'utf8');
        return text.slice(-bytes);
      } catch {
        return '';
      }
    },
  };
  live.set(pid, proc);
  return proc;
}

/** PIDs of tracked processes that have not exited yet. */
export function trackedPids(): number[] {
  return [...live.keys()];
}

/** Stop every tracked process (SIGTERM, then SIGKILL after `graceMs`). */
export async function stopAllProcesses(graceMs = 3000): Promise<void> {
  await Promise.all([...live.values()].map((p) => p.stop(graceMs)));
}

/**
 * SIGKILL every tracked process, synchronously, and drop their pidfiles.
 * For the process 'exit' handler, where nothing asynchronous runs any more.
 */
export function killAllProcessesSync(): void {
  for (const pid of [...live.keys()]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    removePidfile(pid);
    live.delete(pid);
  }
}

/** True when a process with this PID exists (kill(pid, 0) does not fail with ESRCH). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
