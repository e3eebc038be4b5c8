/**
 * The user-facing descriptions of the configuration, both generated from the
 * schema table: the markdown reference embedded in docs/configuration.md (a
 * unit test keeps the two identical) and `knitd --help`.
 */
import { CONFIG_FILE, FIELDS, FieldSpec } from './schema';

/** Markers around the generated part of docs/configuration.md. */
export const REFERENCE_BEGIN = '<!-- BEGIN GENERATED: renderConfigReference() in agent/src/config/reference.ts -->';
export const REFERENCE_END = '<!-- END GENERATED -->';

/** The default as users should read it. */
export function describeDefault(spec: FieldSpec): string {
  if (spec.docDefault !== undefined) return spec.docDefault;
  if (spec.type === 'object') return 'unset';
  const value = spec.default;
  if (value === undefined) return 'unset';
  if (typeof value === 'function') return 'derived';
  if (Array.isArray(value)) return value.length === 0 ? 'empty' : `\`${value.join(',')}\``;
  if (value === '') return '`""`';
  return `\`${String(value)}\``;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The markdown configuration reference (a table, one row per field), without the markers. */
export function renderConfigReference(): string {
  const lines = [
    `The config file is named by \`--${CONFIG_FILE.flag}\` or \`${CONFIG_FILE.env}\` (no default; \`.yaml\`, \`.yml\` or \`.json\`).`,
    'Precedence: flags, then environment variables, then the config file, then defaults.',
    '',
    '| Key | Type | Default | Environment | Flag | Description |',
    '|---|---|---|---|---|---|',
  ];
  for (const spec of FIELDS) {
    lines.push(
      `| \`${spec.key}\` | ${cell(spec.typeLabel)} | ${cell(describeDefault(spec))} | \`${spec.env}\` | \`--${spec.flag}\` | ${cell(spec.description)} |`,
    );
  }
  return lines.join('\n') + '\n';
}

function placeholder(spec: FieldSpec): string {
  switch (spec.type) {
    case 'boolean': return '[true|false]';
    case 'integer': return '<n>';
    case 'list': return '<a,b,…>';
    case 'object': return '<json>';
    case 'string': return spec.typeLabel.includes(',') ? `<${spec.typeLabel.replace(/, /g, '|')}>` : `<${spec.typeLabel}>`;
  }
}

/** Plain-text help for `knitd --help`. */
export function helpText(): string {
  const strip = (text: string) => text.replace(/`/g, '');
  const lines = [
    'Usage: knitd [flags]',
    '',
    'knitd is the knit node agent: it leases this node\'s container subnet, serves the',
    'knit CNI plugin, programs the dataplane and serves the operator API.',
    '',
    'Settings come from flags, KNIT_* environment variables and a config file, in that',
    'order of precedence; the file uses the camelCase keys shown in brackets.',
    'Boolean flags also work bare (--masquerade) and negated (--no-masquerade).',
    '',
    'Flags:',
    `  --${CONFIG_FILE.flag} <path>`,
    `      Config file (.yaml, .yml or .json). [env ${CONFIG_FILE.env}]`,
  ];
  for (const spec of FIELDS) {
    lines.push(`  --${spec.flag} ${placeholder(spec)}`);
    lines.push(`      ${strip(spec.description)}`);
    lines.push(`      [key ${spec.key}] [env ${spec.env}] [default ${strip(describeDefault(spec))}]`);
  }
  lines.push('  -h, --help', '      Show this help and exit.');
  lines.push('  --version', '      Print knitd\'s version and the API version, and exit.');
  return lines.join('\n') + '\n';
}
