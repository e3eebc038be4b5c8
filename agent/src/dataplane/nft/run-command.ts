/**
 * Spawning binaries: conntrack, iptables, and nft where libnftables cannot
 * take the command (libnftables.ts runs nft's `-f -` and `list` forms inside
 * knitd). `nft -f -` is the interface that commits a whole script as one
 * kernel transaction; the library takes the same script.
 */
import { spawn } from 'node:child_process';

/** What a finished command left behind. */
export interface CommandResult {
  /** Exit code, or -1 when the process could not start or died on a signal. */
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs argv (argv[0] is the program) with optional stdin. Injected in tests. */
export type CommandRunner = (argv: string[], input?: string) => Promise<CommandResult>;

/** The real runner: spawn without a shell, collect stdout and stderr. */
export const spawnCommand: CommandRunner = (argv, input) =>
  new Promise((resolve) => {
    const [program, ...args] = argv;
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let settled = false;
    const finish = (code: number, extra = ''): void => {
      if (settled) return;
      settled = true;
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') + extra });
    };
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => finish(-1, `cannot run ${program}: ${e.message}`));
    child.on('close', (code) => finish(code ?? -1));
    // A child that dies before reading stdin would raise EPIPE here; the exit code tells the story.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
