/**
 * Test doubles for knitd's CNI service: recording fake handlers, a temp
 * socket directory, and a raw client that speaks the one-line protocol.
 */
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
