/**
 * Test doubles for knitd's CNI service: recording fake handlers, a temp
 * socket directory, and a raw client that speaks the one-line protocol.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddRequest, CheckRequest, CniHandlers, DelRequest, GcRequest, StatusRequest } from '../../agent/src/cni/types';
import type { InternalResult } from '../../agent/src/cni/result';

/** A result with everything every version can say, and 1.1-only extras. */
export const SAMPLE_RESULT: InternalResult = {
  interfaces: [
    { name: 'knit0', mac: '0a:58:0a:f4:01:01', mtu: 1450 },
    { name: 'vethc0ffee01', mac: 'ee:ee:ee:ee:ee:01', mtu: 1450 },
    { name: 'eth0', mac: '0a:58:0a:f4:01:05', mtu: 1450, sandbox: '/run/netns/c1' },
  ],
  ips: [
    { address: '10.244.1.5/24', gateway: '10.244.1.1', interface: 2 },
    { address: 'fd00:10:244:1::5/64', gateway: 'fd00:10:244:1::1', interface: 2 },
  ],
  routes: [
    { dst: '0.0.0.0/0', gw: '10.244.1.1', mtu: 1450, priority: 100 },
    { dst: '::/0', gw: 'fd00:10:244:1::1' },
  ],
  dns: { nameservers: ['10.96.0.10'], search: ['svc.cluster.local'] },
};

export type Call =
  | { op: 'add'; req: AddRequest }
  | { op: 'del'; req: DelRequest }
  | { op: 'check'; req: CheckRequest }
  | { op: 'status'; req: StatusRequest }
  | { op: 'gc'; req: GcRequest };

/** Fake handlers that record each call; `behaviour` can make one throw or stall. */
export class FakeHandlers implements CniHandlers {
  readonly calls: Call[] = [];
  result: InternalResult = SAMPLE_RESULT;
  /** thrown by the next matching call(s) when set */
  fail: Partial<Record<Call['op'], unknown>> = {};

  private maybeFail(op: Call['op']): void {
    if (op in this.fail) throw this.fail[op];
  }
  async add(req: AddRequest): Promise<InternalResult> {
    this.calls.push({ op: 'add', req });
    this.maybeFail('add');
    return this.result;
  }
  async del(req: DelRequest): Promise<void> {
    this.calls.push({ op: 'del', req });
    this.maybeFail('del');
  }
  async check(req: CheckRequest): Promise<void> {
    this.calls.push({ op: 'check', req });
    this.maybeFail('check');
  }
  async status(req: StatusRequest): Promise<void> {
    this.calls.push({ op: 'status', req });
    this.maybeFail('status');
  }
  async gc(req: GcRequest): Promise<void> {
    this.calls.push({ op: 'gc', req });
    this.maybeFail('gc');
  }
}

/** A fresh private temp directory; remove it with `fs.rmSync(dir, {recursive: true, force: true})`. */
export function tempDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `knit-${tag}-`));
}

/** Sends raw bytes to a unix socket and resolves with everything it answers before closing. */
export function rawExchange(socketPath: string, payload: string | Buffer, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = net.createConnection({ path: socketPath });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer from ${socketPath} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('connect', () => sock.write(payload));
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** A minimal valid configuration for `cniVersion`, plus overrides. */
export function conf(cniVersion: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { cniVersion, name: 'knitnet', type: 'knit', ...extra };
}

/** The repository root (tests run from dist/test/...). */
export const REPO = path.resolve(__dirname, '..', '..', '..');
/** The plugin executable as committed. */
export const KNIT = path.join(REPO, 'cni-plugin', 'bin', 'knit');

/** How one exec of the plugin ended. */
export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Execs `bin` the way a runtime does: exactly `env` (plus PATH, for the
 * shebang) and `stdin`. With `nodeArgs`, runs `node ...nodeArgs bin` instead.
 * Asynchronous on purpose: the fake knitd lives in the test's own event loop.
 */
export function runKnit(env: Record<string, string>, stdin: string, bin = KNIT, nodeArgs: string[] = []): Promise<Run> {
  return new Promise((resolve, reject) => {
    const cmd = nodeArgs.length > 0 ? process.execPath : bin;
    const args = nodeArgs.length > 0 ? [...nodeArgs, bin] : [];
    const child = spawn(cmd, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/**
 * A preload for `node --require` that records, at exit, every module file
 * the process loaded (minus itself) and whether the `net` built-in was loaded.
 */
export function moduleRecorder(dir: string, out: string): string {
  const file = path.join(dir, `record-modules-${path.basename(out)}.js`);
  fs.writeFileSync(
    file,
    `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify({ files: Object.keys(require.cache).filter((f) => f !== __filename), net: process.moduleLoadList.includes('NativeModule net') })));\n`,
  );
  return file;
}

/** What moduleRecorder wrote. */
export function recordedModules(out: string): { files: string[]; net: boolean } {
  return JSON.parse(fs.readFileSync(out, 'utf8')) as { files: string[]; net: boolean };
}
