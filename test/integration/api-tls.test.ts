import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ApiConfigError, ApiServer } from '../../agent/src/api';
import type { Node__Output } from '../../agent/src/api/gen/knit/v1/Node';
import { FakeSource } from '../support/api-fake-source';
import { makeClient, outcome, recordingLogger, startHarness, tempDir, type Harness } from './api-harness';
import { makeTestPki, type TestPki } from './api-certs';

describe('api server over TCP', function () {
  this.timeout(30_000);
  let dir: string;
  let pki: TestPki;
  let h: Harness;
  let target: string;

  before(async () => {
    dir = tempDir('api-tls');
    pki = makeTestPki(dir);
    h = await startHarness({ tcp: { address: '127.0.0.1:0', tls: { cert: pki.server.cert, key: pki.server.key, clientCa: pki.ca.cert } } }, 'api-tcp');
    target = `127.0.0.1:${h.server.tcpPort as number}`;
  });
  after(async () => {
    await h?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function getNode(creds: grpc.ChannelCredentials, at = target): Promise<{ ok: boolean; code?: grpc.status; name?: string }> {
    const c = makeClient(at, creds, { 'grpc.use_local_subchannel_pool': 1 });
    try {
      const o = await outcome<Node__Output>((opts, cb) => c.getNode({}, opts, cb), 2000);
      return o.ok ? { ok: true, name: o.res.name } : { ok: false, code: o.code };
    } finally {
      c.close();
    }
  }

  it('serves a client whose certificate the client CA signed (mutual TLS)', async () => {
    expect(h.server.tcpPort).to.be.above(0);
    expect(await getNode(grpc.credentials.createSsl(pki.ca.cert, pki.client.key, pki.client.cert))).to.deep.equal({ ok: true, name: 'node-a' });
  });

  it('rejects a client without a certificate', async () => {
    const r = await getNode(grpc.credentials.createSsl(pki.ca.cert));
    expect(r.ok).to.equal(false);
    expect(r.code).to.equal(grpc.status.UNAVAILABLE);
  });

  it('rejects a client certificate from another CA', async () => {
    const r = await getNode(grpc.credentials.createSsl(pki.ca.cert, pki.foreignClient.key, pki.foreignClient.cert));
    expect(r.ok).to.equal(false);
    expect(r.code).to.equal(grpc.status.UNAVAILABLE);
  });

  it('rejects a plaintext client on the TLS port', async () => {
    const r = await getNode(grpc.credentials.createInsecure());
    expect(r.ok).to.equal(false);
  });

  it('keeps serving good clients after refusing bad ones', async () => {
    expect((await getNode(grpc.credentials.createSsl(pki.ca.cert, pki.client.key, pki.client.cert))).ok).to.equal(true);
  });

  it('refuses to start plaintext TCP without the explicit insecure flag, binding nothing', async () => {
    const d = tempDir('api-refuse');
    try {
      const socketPath = path.join(d, 'knitd.sock');
      const s = new ApiServer({ source: new FakeSource(), logger: recordingLogger().logger, socketPath, tcp: { address: '127.0.0.1:0' } });
      let err: Error | undefined;
      await s.start().catch((e: Error) => (err = e));
      expect(err).to.be.instanceOf(ApiConfigError);
      expect(err?.message).to.match(/refusing to serve the gRPC API on TCP 127.0.0.1:0 without TLS/);
      expect(fs.existsSync(socketPath)).to.equal(false);
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it('serves plaintext TCP with the insecure flag and logs a warning', async () => {
    const x = await startHarness({ tcp: { address: '127.0.0.1:0', insecure: true } }, 'api-insecure');
    try {
      expect(await getNode(grpc.credentials.createInsecure(), `127.0.0.1:${x.server.tcpPort as number}`)).to.deep.equal({ ok: true, name: 'node-a' });
      const warn = x.lines.find((l) => l.level === 'warn');
      expect(warn?.message).to.match(/WITHOUT TLS/);
    } finally {
      await x.close();
    }
  });
});
