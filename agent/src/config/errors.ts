/**
 * ConfigError: one bad configuration value, named by field, source and value
 * so an operator can find it; and the "did you mean" helper for typos in
 * flags and file keys.
 */
import type { ConfigSource } from './types';

export class ConfigError extends Error {
  /** Dotted key of the field (e.g. "etcd.endpoints"), or the unknown flag/key as written. */
  readonly field: string;
  /** Which source supplied the bad value. */
  readonly source: ConfigSource;
  /** The bad value as it was given (undefined when a required value is missing). */
  readonly value: unknown;
  /** Where exactly: "--node-name", "KNIT_NODE_NAME", the config file's path, or "default". */
  readonly origin: string;

  constructor(args: { field: string; source: ConfigSource; value: unknown; origin: string; problem: string; cause?: unknown }) {
    super(formatMessage(args), { cause: args.cause });
    this.name = 'ConfigError';
    this.field = args.field;
    this.source = args.source;
    this.value = args.value;
    this.origin = args.origin;
  }
}

function formatMessage(args: { field: string; source: ConfigSource; value: unknown; origin: string; problem: string }): string {
  // A problem with the config file as a whole (syntax, shape) has no field to name.
  if (args.field === 'config' && args.source === 'file') return `config file ${args.origin}: ${args.problem}`;
  const shown = args.value === undefined ? '' : ` = ${JSON.stringify(args.value)}`;
  let where: string;
  switch (args.source) {
    case 'flag': where = `from flag ${args.origin}`; break;
    case 'env': where = `from environment variable ${args.origin}`; break;
    case 'file': where = `from config file ${args.origin}`; break;
    case 'default': where = args.value === undefined ? 'not set' : 'default'; break;
  }
  return `invalid config ${args.field}${shown} (${where}): ${args.problem}`;
}

/**
 * Edit distance counting insertions, deletions, substitutions and swaps of
 * two adjacent characters (optimal string alignment): "brigde" is one typo
 * away from "bridge", not two.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** Lower case without separators, so node_name, node-name and nodeName compare equal. */
function normalize(name: string): string {
  return name.toLowerCase().replace(/[-_.]/g, '');
}

/**
 * The candidate closest to `input` when it is close enough to be a plausible
 * typo: the same name in another spelling (node_name for nodeName), a key
 * missing its group (endpoints for etcd.endpoints), or a few edits away.
 */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  const wanted = normalize(input);
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const last = candidate.slice(candidate.lastIndexOf('.') + 1);
    const distance = Math.min(editDistance(wanted, normalize(candidate)), editDistance(wanted, normalize(last)) + 1);
    if (best === undefined || distance < best.distance) best = { candidate, distance };
  }
  if (best === undefined) return undefined;
  const allowed = Math.min(3, Math.max(1, Math.floor(wanted.length / 4)));
  return best.distance <= allowed ? best.candidate : undefined;
}
