/**
 * Shared pieces of the API integration tests: a server with a fake source on
 * a temporary unix socket, a typed client, promisified calls that resolve to
 * either the answer or the status error, and a log recorder.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ApiServer, type ApiServerOptions } from '../../agent/src/api';
import type { KnitClient } from '../../agent/src/api/gen/knit/v1/Knit';
import { loadKnitProto } from '../../agent/src/api/proto';
import { FakeSource } from '../support/api-fake-source';

export function tempDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `knit-${tag}-`));
}

import { recordingLogger } from '../support/recording-logger';

export { recordingLogger };

export interface Harness {
  dir: string;
  socketPath: string;
  source: FakeSource;
  server: ApiServer;
  lines: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startHarness(opts: Partial<ApiServerOptions> = {}, tag = 'api'): Promise<Harness> {
  const dir = tempDir(tag);
  const socketPath = path.join(dir, 'run', 'knitd.sock');
  const source = new FakeSource();
  const { logger, lines } = recordingLogger();
  const server = new ApiServer({ source, logger, socketPath, ...opts });
  try {
    await server.start();
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    dir, socketPath, source, server, lines,
    close: async () => {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function makeClient(target: string, creds = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}): KnitClient {
  const pkg = loadKnitProto(grpc);
  return new pkg.Knit(target, creds, options);
}

/** Either the response or the status error of one unary call. */
export type Outcome<T> = { ok: true; res: T } | { ok: false; code: grpc.status; details: string };

export function outcome<T>(invoke: (opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: T) => void) => unknown, deadlineMs = 5000): Promise<Outcome<T>> {
  return new Promise((resolve) => {
    invoke({ deadline: new Date(Date.now() + deadlineMs) }, (err, res) => {
      if (err) resolve({ ok: false, code: err.code, details: err.details });
      else resolve({ ok: true, res: res as T });
    });
  });
}

/** Resolves the response, or rejects with the status. */
export async function must<T>(invoke: (opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: T) => void) => unknown): Promise<T> {
  const o = await outcome(invoke);
  if (!o.ok) throw new Error(`call failed: ${grpc.status[o.code]} ${o.details}`);
  return o.res;
}
