/**
 * nft commands inside knitd, through libnftables (the native addon
 * agent/native/src/nft.cc, target knit_nft), instead of an `nft` process.
 *
 * The library is what the nft binary runs: the same parser, the same single
 * transaction per buffer, the same error text. What it saves is the process:
 * fork, exec and dynamic linking cost 5-40 ms per command on a 2-core node,
 * while a policy difference of a few set elements commits in well under a
 * millisecond. Commands run one at a time on libuv's thread pool (a command
 * on a large interval set can take tens of milliseconds in nft's overlap
 * checks, which must not stall the event loop).
 *
 * Only the forms knit uses are taken in-process: `nft -f -` with the script
 * on stdin, and `nft [-j] list ...`. Anything else, an nft command that is
 * not the plain `nft` (tests run `ip netns exec NS nft`), or a library that
 * does not load, goes to a spawned process as before. knitd's `nft: exec`
 * (KNIT_NFT=exec) forces the process, for comparison and as an escape hatch:
 * the wiring says so with setNftMode before the first command.
 */
import { describeError, loadNativeAddon } from '../../base';
import { spawnCommand, type CommandResult, type CommandRunner } from './run-command';

interface NftAddon {
  /** null when commands can run in-process, else why not */
  available(): string | null;
  run(script: string, json: boolean): Promise<CommandResult>;
}

/** What an argv asks nft for, when it is a form the library takes. */
export interface NftLibraryCommand {
  script: string;
  json: boolean;
}

/** The in-process form of `argv` (with `input` as stdin), or undefined when it must be spawned. */
export function libraryCommand(argv: readonly string[], input?: string): NftLibraryCommand | undefined {
  if (argv[0] !== 'nft') return undefined;
  const args = argv.slice(1);
  if (args.length === 2 && args[0] === '-f' && args[1] === '-') return { script: input ?? '', json: false };
  const json = args[0] === '-j';
  const words = json ? args.slice(1) : args;
  // `list` words are knit's own (family, table name): no option, no quoting to reproduce.
  if (words[0] !== 'list' || input !== undefined || words.some((w) => w.startsWith('-') || !/^[A-Za-z0-9_.-]+$/.test(w))) return undefined;
  return { script: words.join(' '), json };
}

let addon: NftAddon | null | undefined;
let unavailable: string | undefined;
let mode: 'library' | 'exec' = 'library';

/** library (the default): nft's forms above in-process when the addon loads; exec: always a process. */
export function setNftMode(m: 'library' | 'exec'): void {
  mode = m;
}

function loadAddon(): NftAddon | null {
  if (mode === 'exec') {
    unavailable = 'nft: exec';
    return null;
  }
  if (addon !== undefined) return addon;
  try {
    const loaded = loadNativeAddon<NftAddon>('knit_nft');
    const why = loaded.available();
    if (why === null) addon = loaded;
    else {
      unavailable = why;
      addon = null;
    }
  } catch (err) {
    unavailable = describeError(err);
    addon = null;
  }
  return addon;
}

/** Why nft commands are spawned instead of run in-process, or undefined when they run in-process. */
export function nftLibraryUnavailable(): string | undefined {
  return loadAddon() === null ? unavailable : undefined;
}

// One command at a time: libnftables contexts are not shared, but its parser and caches are not documented as thread-safe.
let queue: Promise<unknown> = Promise.resolve();

/**
 * The real runner: nft's `-f -` and `list` forms through libnftables when
 * the library loads, everything else spawned (see the module comment).
 */
export const runCommand: CommandRunner = (argv, input) => {
  const cmd = libraryCommand(argv, input);
  const lib = cmd === undefined ? null : loadAddon();
  if (cmd === undefined || lib === null) return spawnCommand(argv, input);
  const run = queue.then(() => lib.run(cmd.script, cmd.json));
  queue = run.catch(() => undefined);
  return run.catch((err: unknown) => ({ code: -1, stdout: '', stderr: `libnftables: ${err instanceof Error ? err.message : String(err)}` }));
};
