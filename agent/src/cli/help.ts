/** knitctl's help texts, generated from the command table (commands.ts). */
import { COMMANDS, GLOBAL_FLAGS, type CommandSpec, type FlagSpec } from './commands';

function flagLines(flags: FlagSpec[]): string {
  const left = flags.map((f) => `${f.short !== undefined ? `-${f.short}, ` : '    '}--${f.name}${f.value !== undefined ? ` ${f.value}` : ''}`);
  const w = Math.max(...left.map((l) => l.length));
  return flags.map((f, i) => `  ${left[i].padEnd(w)}   ${f.help}`).join('\n');
}

/** `knitctl --help`. */
export function mainHelp(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'knitctl: inspect a knit node (talks to knitd\'s gRPC API) and the cluster network config.',
    '',
    'Usage: knitctl [flags] COMMAND [args] [flags]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}   ${c.summary}`),
    '',
    'Flags:',
    flagLines(GLOBAL_FLAGS),
    '',
    'Exit status: 0 ok, 1 the command failed (or the node is unhealthy for status), 2 usage error, 3 knitd not reachable.',
    'Run "knitctl COMMAND --help" for a command\'s flags.',
    '',
  ].join('\n');
}

/** `knitctl COMMAND --help`. */
export function commandHelp(c: CommandSpec): string {
  return [
    `knitctl ${c.name}: ${c.summary}`,
    '',
    `Usage: knitctl ${c.name}${c.args !== undefined ? ` ${c.args}` : ''} [flags]`,
    ...(c.details !== undefined ? ['', c.details] : []),
    ...(c.flags.length > 0 ? ['', 'Flags:', flagLines(c.flags)] : []),
    '',
    'Global flags:',
    flagLines(GLOBAL_FLAGS),
    '',
  ].join('\n');
}
