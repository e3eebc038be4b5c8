/**
 * knitd's structured logger: one line per record on stderr, JSON
 * (`{"level","message",...fields,"timestamp"}`) or text, one child logger per
 * module so every line says where it came from. Modules take a `Logger` in
 * their constructor; only main.ts calls `createLogger`.
 *
 * Written here rather than taken from a logging library: knit needs levels,
 * child fields and one sink, and the library it used (winston) cost knitd
 * about 10 MiB of resident memory at start for the rest.
 */
import { inspect } from 'node:util';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFields = Record<string, unknown>;

export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  log(level: LogLevel, message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every record (a record's own fields win). */
  child(fields: LogFields): Logger;
}

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/** Errors as their message, bigints as decimal text: what JSON cannot hold as it is. */
function replacer(_key: string, v: unknown): unknown {
  if (v instanceof Error) return v.message;
  if (typeof v === 'bigint') return v.toString();
  return v;
}

function jsonLine(level: LogLevel, message: string, fields: LogFields): string {
  const record = { ...fields, level, message, timestamp: new Date().toISOString() };
  try {
    return JSON.stringify(record, replacer);
  } catch {
    // a cycle in the fields: still one line, never a lost record
    return JSON.stringify({ level, message, fields: inspect(fields, { depth: 4, breakLength: Infinity }), timestamp: record.timestamp });
  }
}

function textLine(level: LogLevel, message: string, fields: LogFields): string {
  const rest = Object.keys(fields).length === 0 ? '' : ` ${inspect(fields, { depth: 4, breakLength: Infinity, compact: true })}`;
  return `${new Date().toISOString()} ${level}: ${message}${rest}`;
}

class LineLogger implements Logger {
  constructor(
    private readonly max: number,
    private readonly format: (level: LogLevel, message: string, fields: LogFields) => string,
    private readonly write: ((line: string) => void) | undefined,
    private readonly fields: LogFields,
  ) {}

  log(level: LogLevel, message: string, fields?: LogFields): void {
    if (this.write === undefined || RANK[level] > this.max) return;
    this.write(this.format(level, message, fields === undefined ? this.fields : { ...this.fields, ...fields }));
  }

  error(message: string, fields?: LogFields): void {
    this.log('error', message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    this.log('warn', message, fields);
  }

  info(message: string, fields?: LogFields): void {
    this.log('info', message, fields);
  }

  debug(message: string, fields?: LogFields): void {
    this.log('debug', message, fields);
  }

  child(fields: LogFields): Logger {
    return new LineLogger(this.max, this.format, this.write, { ...this.fields, ...fields });
  }
}

/**
 * A logger writing records at `level` and above. `sink` receives each line
 * (without its newline); by default lines go to stderr.
 */
export function createLogger(level: LogLevel = 'info', format: 'json' | 'text' = 'json', sink?: (line: string) => void): Logger {
  const write = sink ?? ((line: string) => { process.stderr.write(`${line}\n`); });
  return new LineLogger(RANK[level], format === 'json' ? jsonLine : textLine, write, {});
}

/** A logger that drops everything: for unit tests and library use. */
export function silentLogger(): Logger {
  return new LineLogger(-1, jsonLine, undefined, {});
}
