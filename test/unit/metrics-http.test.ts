import { expect } from 'chai';
import * as http from 'node:http';
import { createKnitMetrics, MetricsServer, parseListenAddress, type Verdict } from '../../agent/src/metrics';
import { silentLogger } from '../../agent/src/log/logger';
import { parsePrometheusText, sampleValue } from '../support/metrics-text-parser';

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('metrics HTTP listener (loopback)', () => {
  const reg = createKnitMetrics({ processMetrics: false });
  let ready: Verdict = { ok: false, reasons: ['no subnet lease yet', 'etcd unreachable'] };
  const server = new MetricsServer({
    address: '127.0.0.1:0', render: reg.render, contentType: reg.contentType, readiness: () => ready, logger: silentLogger(),
  });
  before(() => server.start());
  after(() => server.close());

  it('serves /metrics in Prometheus text format, and counters move between scrapes', async () => {
    const port = server.port as number;
    const first = await get(port, '/metrics');
    expect(first.status).to.equal(200);
    expect(first.type).to.equal(reg.contentType);
    expect(sampleValue(parsePrometheusText(first.body), 'knit_etcd_errors_total', { op: 'renew' })).to.equal(undefined);
    reg.metrics.etcdErrors.inc({ op: 'renew' });
    const second = parsePrometheusText((await get(port, '/metrics')).body);
    expect(sampleValue(second, 'knit_etcd_errors_total', { op: 'renew' })).to.equal(1);
  });

  it('/healthz is 200 while the process runs; /readyz is 503 with reasons until ready', async () => {
    const port = server.port as number;
    expect(await get(port, '/healthz')).to.deep.include({ status: 200, body: 'ok\n' });
    expect(await get(port, '/readyz')).to.deep.include({ status: 503, body: 'not ok:\n- no subnet lease yet\n- etcd unreachable\n' });
    ready = { ok: true, reasons: [] };
    expect(await get(port, '/readyz')).to.deep.include({ status: 200, body: 'ok\n' });
  });

  it('answers 404 for other paths, 405 for POST, and HEAD without a body', async () => {
    const port = server.port as number;
    expect((await get(port, '/nope')).status).to.equal(404);
    expect((await get(port, '/metrics', 'POST')).status).to.equal(405);
    expect(await get(port, '/healthz', 'HEAD')).to.deep.include({ status: 200, body: '' });
  });

  it('a failing readiness check is a 500 and the server keeps serving', async () => {
    const s = new MetricsServer({
      address: '127.0.0.1:0', render: reg.render, contentType: reg.contentType, logger: silentLogger(),
      readiness: () => {
        throw new Error('boom');
      },
    });
    await s.start();
    try {
      expect(await get(s.port as number, '/readyz')).to.deep.include({ status: 500, body: 'internal error: boom\n' });
      expect((await get(s.port as number, '/healthz')).status).to.equal(200);
    } finally {
      await s.close();
    }
  });

  it('an empty address disables the listener', async () => {
    const s = new MetricsServer({ address: '', render: reg.render, contentType: reg.contentType, readiness: () => ready, logger: silentLogger() });
    await s.start();
    expect(s.port).to.equal(undefined);
    await s.close();
  });

  it('parses listen addresses and refuses bad ones', () => {
    expect(parseListenAddress('127.0.0.1:9654')).to.deep.equal({ host: '127.0.0.1', port: 9654 });
    expect(parseListenAddress('[::1]:9654')).to.deep.equal({ host: '::1', port: 9654 });
    expect(parseListenAddress('localhost:1')).to.deep.equal({ host: 'localhost', port: 1 });
    for (const a of ['9654', ':9654', '127.0.0.1:70000', '::1:9654']) expect(() => parseListenAddress(a), a).to.throw(/is not host:port/);
  });
});
