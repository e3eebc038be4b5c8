/**
 * Reading the three sources of configuration into raw values keyed by field:
 * command-line flags, KNIT_* environment variables and the config file.
 * Nothing is typed or validated here beyond the shape of the input (unknown
 * flags and file keys, flags missing their value); load.ts does the rest.
 */
import path from 'path';
import YAML from 'yaml';
import { ConfigError, didYouMean } from './errors';
import { CONFIG_FILE, FIELD_BY_KEY, FIELDS, FieldSpec, GROUPS } from './schema';
import type { ConfigSource } from './types';
import { errorMessage } from '../base';

/** A value as a source gave it: strings from flags and env (string[] for repeated list flags), anything from a file. */
export interface RawValue {
  raw: unknown;
  source: ConfigSource;
  /** "--node-name", "KNIT_NODE_NAME" or the file path. */
  origin: string;
}

export interface SourceValues {
  values: Map<string, RawValue>;
  /** --config / KNIT_CONFIG, when this source gave it. */
  configFile?: string;
}

const HELP_FLAGS = new Set(['--help', '-h']);
const BOOLEAN_WORDS = new Set(['true', 'false', '1', '0']);

/** True when argv asks for `knitd --help`. */
export function helpRequested(argv: readonly string[]): boolean {
  return argv.some((arg) => HELP_FLAGS.has(arg));
}

const byFlag = new Map<string, FieldSpec>(FIELDS.map((f) => [f.flag, f]));
const allFlags = [CONFIG_FILE.flag, ...FIELDS.map((f) => f.flag), ...FIELDS.filter((f) => f.type === 'boolean').map((f) => `no-${f.flag}`)];

/**
 * Parses --kebab-case flags: `--name value`, `--name=value`; booleans also as
 * a bare `--name`, `--name true|false|1|0` and `--no-name`; list flags may be
 * repeated and each value may be comma-separated.
 */
export function readFlags(argv: readonly string[]): SourceValues {
  const values = new Map<string, RawValue>();
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (HELP_FLAGS.has(arg)) continue;
    if (!arg.startsWith('--') || arg === '--') {
      throw new ConfigError({ field: arg, source: 'flag', value: undefined, origin: arg, problem: 'knitd takes no positional arguments (flags are --name value or --name=value)' });
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    const origin = `--${name}`;
    const takeValue = (field: string): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw new ConfigError({ field, source: 'flag', value: undefined, origin, problem: `flag ${origin} needs a value` });
      }
      i++;
      return next;
    };

    if (name === CONFIG_FILE.flag) {
      configFile = takeValue('config');
      continue;
    }
    let spec = byFlag.get(name);
    let negated = false;
    if (spec === undefined && name.startsWith('no-')) {
      const positive = byFlag.get(name.slice(3));
      if (positive?.type === 'boolean') {
        spec = positive;
        negated = true;
      }
    }
    if (spec === undefined) {
      const guess = didYouMean(name, allFlags);
      throw new ConfigError({
        field: name, source: 'flag', value: inline, origin,
        problem: `unknown flag ${origin}${guess === undefined ? '' : `; did you mean --${guess}?`} (see knitd --help)`,
      });
    }
    if (spec.type === 'boolean') {
      let raw: string;
      if (negated) {
        if (inline !== undefined) throw new ConfigError({ field: spec.key, source: 'flag', value: inline, origin, problem: `flag ${origin} takes no value` });
        raw = 'false';
      } else if (inline !== undefined) {
        raw = inline;
      } else if (argv[i + 1] !== undefined && BOOLEAN_WORDS.has(argv[i + 1].toLowerCase())) {
        raw = argv[++i];
      } else {
        raw = 'true';
      }
      values.set(spec.key, { raw, source: 'flag', origin });
    } else if (spec.type === 'list') {
      const previous = values.get(spec.key)?.raw;
      const items = Array.isArray(previous) ? (previous as string[]) : [];
      values.set(spec.key, { raw: [...items, takeValue(spec.key)], source: 'flag', origin });
    } else {
      values.set(spec.key, { raw: takeValue(spec.key), source: 'flag', origin });
    }
  }
  return { values, configFile };
}

/**
 * Picks the KNIT_* variables of the schema. An empty variable counts as unset
 * (as systemd EnvironmentFile lines like `KNIT_PUBLIC_IP=` intend), except
 * for fields where "" means something, and lists, where it means empty.
 * Other KNIT_* variables are ignored: the environment is shared with other
 * tools (the lab, the CNI plugin) and is not knitd's alone.
 */
export function readEnv(env: Record<string, string | undefined>): SourceValues {
  const values = new Map<string, RawValue>();
  for (const spec of FIELDS) {
    const raw = env[spec.env];
    if (raw === undefined) continue;
    if (raw === '' && spec.type !== 'list' && !(spec.type === 'string' && spec.allowEmpty === true)) continue;
    values.set(spec.key, { raw, source: 'env', origin: spec.env });
  }
  const configFile = env[CONFIG_FILE.env];
  return { values, configFile: configFile === '' ? undefined : configFile };
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses a config file's text (YAML for .yaml/.yml, JSON for .json) into raw values by key. */
export function readConfigFile(file: string, text: string): Map<string, RawValue> {
  const ext = path.extname(file).toLowerCase();
  const fileError = (problem: string, cause?: unknown) =>
    new ConfigError({ field: 'config', source: 'file', value: undefined, origin: file, problem, cause });
  let doc: unknown;
  try {
    if (ext === '.json') doc = JSON.parse(text);
    else if (ext === '.yaml' || ext === '.yml') doc = YAML.parse(text);
    else throw fileError('the config file name must end in .yaml, .yml or .json');
  } catch (cause) {
    if (cause instanceof ConfigError) throw cause;
    throw fileError(`cannot parse ${ext === '.json' ? 'JSON' : 'YAML'}: ${errorMessage(cause)}`, cause);
  }
  // An empty YAML file (or one with only comments) means "nothing set".
  if (doc === null || doc === undefined) return new Map();
  if (!isMapping(doc)) throw fileError('the top level must be a mapping of field names to values');

  const values = new Map<string, RawValue>();
  const candidates = [...FIELD_BY_KEY.keys(), ...GROUPS];
  const unknown = (key: string, value: unknown): ConfigError => {
    const guess = didYouMean(key, candidates);
    return new ConfigError({
      field: key, source: 'file', value, origin: file,
      problem: `unknown key ${key}${guess === undefined ? '' : `; did you mean ${guess}?`}`,
    });
  };
  const put = (key: string, value: unknown) => {
    // null (e.g. `publicIp:` or `publicIp: ~` in a YAML template) leaves the field unset.
    if (value !== null) values.set(key, { raw: value, source: 'file', origin: file });
  };
  for (const [top, value] of Object.entries(doc)) {
    if (GROUPS.has(top)) {
      if (value === null) continue;
      if (!isMapping(value)) {
        throw new ConfigError({ field: top, source: 'file', value, origin: file, problem: `${top} must be a mapping (e.g. ${top}: {…})` });
      }
      for (const [sub, subValue] of Object.entries(value)) {
        const key = `${top}.${sub}`;
        if (!FIELD_BY_KEY.has(key)) throw unknown(key, subValue);
        put(key, subValue);
      }
    } else if (FIELD_BY_KEY.has(top)) {
      put(top, value);
    } else {
      throw unknown(top, value);
    }
  }
  return values;
}
