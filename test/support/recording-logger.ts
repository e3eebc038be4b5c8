/** A logger whose JSON records land in `lines`: for tests that assert what was (not) logged. */
import { createLogger, type Logger, type LogLevel } from '../../agent/src/log/logger';

export function recordingLogger(level: LogLevel = 'info'): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return { logger: createLogger(level, 'json', (line) => { lines.push(JSON.parse(line) as Record<string, unknown>); }), lines };
}
