/** A winston logger whose JSON records land in `lines`: for tests that assert what was (not) logged. */
import { Writable } from 'node:stream';
import winston from 'winston';

export function recordingLogger(level = 'info'): { logger: winston.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: winston.createLogger({ level, format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] }), lines };
}
