/**
 * knitctl argument parsing: `knitctl [global flags] COMMAND [args] [flags]`.
 * Flags may come anywhere, as `--name value`, `--name=value` or `-o json`.
 * Anything wrong is a UsageError (exit status 2) that says what is expected.
 */
import { COMMANDS, GLOBAL_FLAGS, commandGroups, findCommand, type CommandSpec, type FlagSpec } from './commands';
import { closest } from './suggest';

/** ' (did you mean "x"?)' or ''. */
function didYouMean(word: string, candidates: readonly string[], show: (c: string) => string = (c) => `"${c}"`): string {
  const c = closest(word, candidates);
  return c === undefined ? '' : ` (did you mean ${show(c)}?)`;
}

export class UsageError extends Error {
  constructor(message: string, readonly command?: CommandSpec) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface ParsedArgs {
  /** Undefined for a bare `knitctl` or `knitctl --help`. */
  command?: CommandSpec;
  positionals: string[];
  /** Flag values by long name; boolean flags are `true`. */
  flags: Map<string, string | true>;
  help: boolean;
}

function lookup(specs: FlagSpec[], token: string): FlagSpec | undefined {
  if (token.startsWith('--')) return specs.find((f) => f.name === token.slice(2));
  return specs.find((f) => f.short !== undefined && f.short === token.slice(1));
}

export function parseArgs(argv: string[]): ParsedArgs {
  const words: string[] = [];
  const raw: Array<{ token: string; value?: string }> = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('-') && a !== '-') {
      const eq = a.indexOf('=');
      if (a.startsWith('--') && eq > 0) {
        raw.push({ token: a.slice(0, eq), value: a.slice(eq + 1) });
        continue;
      }
      // Whether the next word is this flag's value depends on the flag, which
      // may be command-specific: decide after the command is known.
      raw.push({ token: a });
      if (i + 1 < argv.length && flagTakesValue(a)) raw[raw.length - 1].value = argv[++i];
      continue;
    }
    words.push(a);
  }

  const found = words.length > 0 ? findCommand(words) : undefined;
  const flags = new Map<string, string | true>();
  const specs = [...GLOBAL_FLAGS, ...(found?.spec.flags ?? [])];
  for (const { token, value } of raw) {
    const spec = lookup(specs, token);
    if (spec === undefined) {
      const longs = specs.map((f) => f.name);
      const hint = token.startsWith('--') ? didYouMean(token.slice(2), longs, (c) => `--${c}`) : '';
      throw new UsageError(`unknown flag ${token}${hint}`, found?.spec);
    }
    if (spec.value === undefined) {
      if (value !== undefined && token.startsWith('--') && !['true', 'false'].includes(value)) {
        throw new UsageError(`flag --${spec.name} takes no value`, found?.spec);
      }
      if (value !== 'false') flags.set(spec.name, true);
      continue;
    }
    if (value === undefined) throw new UsageError(`flag --${spec.name} needs a value (${spec.value})`, found?.spec);
    flags.set(spec.name, value);
  }
  const help = flags.has('help') || words[0] === 'help';
  if (words[0] === 'help') {
    const sub = words.length > 1 ? findCommand(words.slice(1)) : undefined;
    if (words.length > 1 && sub === undefined) {
      throw new UsageError(`unknown command ${JSON.stringify(words.slice(1).join(' '))}${didYouMean(words[1]!, commandGroups())}`);
    }
    return { command: sub?.spec, positionals: [], flags, help: true };
  }
  if (words.length === 0) return { positionals: [], flags, help };
  if (found === undefined) {
    const group = COMMANDS.filter((c) => c.name.startsWith(`${words[0]} `));
    if (group.length > 0) {
      if (help) return { positionals: [], flags, help, command: undefined };
      const subs = group.map((c) => c.name.split(' ')[1]!);
      if (words[1] !== undefined) {
        throw new UsageError(`unknown subcommand ${JSON.stringify(`${words[0]} ${words[1]}`)}${didYouMean(words[1], subs, (c) => `"${words[0]} ${c}"`)}; "${words[0]}" takes ${subs.join(', ')}`);
      }
      throw new UsageError(`"${words[0]}" needs a subcommand: ${subs.join(', ')}`);
    }
    throw new UsageError(`unknown command ${JSON.stringify(words[0])}${didYouMean(words[0]!, commandGroups())}; commands: ${commandGroups().join(', ')}`);
  }
  const spec = found.spec;
  const positionals = words.slice(found.used);
  if (!help && (positionals.length < spec.minArgs || positionals.length > spec.maxArgs)) {
    const want = spec.args === undefined ? 'no arguments' : spec.args;
    throw new UsageError(`${spec.name} takes ${want}, got ${positionals.length === 0 ? 'none' : JSON.stringify(positionals.join(' '))}`, spec);
  }
  const output = flags.get('output');
  if (output !== undefined && output !== 'table' && output !== 'json') {
    throw new UsageError(`--output must be table or json, got ${JSON.stringify(output)}`, spec);
  }
  return { command: spec, positionals, flags, help };
}

/** Every value-taking flag of any command (so `--container x` never reads x as a command word). */
function flagTakesValue(token: string): boolean {
  const all = [...GLOBAL_FLAGS, ...COMMANDS.flatMap((c) => c.flags)];
  const spec = lookup(all, token);
  return spec !== undefined && spec.value !== undefined;
}

/** The --timeout value in ms (default 5 s; 0 = no timeout). */
export function timeoutMs(flags: Map<string, string | true>): number {
  const v = flags.get('timeout');
  if (v === undefined) return 5000;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 3600) {
    throw new UsageError(`--timeout must be a number of seconds from 0 (no timeout) to 3600, got ${JSON.stringify(v)}`);
  }
  return Math.round(n * 1000);
}
