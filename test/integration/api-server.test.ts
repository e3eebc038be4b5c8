import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import type { ClientReadableStream } from '@grpc/grpc-js';
import { ApiServer } from '../../agent/src/api';
import type { KnitClient } from '../../agent/src/api/gen/knit/v1/Knit';
import type { WatchEvent__Output } from '../../agent/src/api/gen/knit/v1/WatchEvent';
import type { Node__Output } from '../../agent/src/api/gen/knit/v1/Node';
import type { Endpoint__Output } from '../../agent/src/api/gen/knit/v1/Endpoint';
import type { ListSubnetsResponse__Output } from '../../agent/src/api/gen/knit/v1/ListSubnetsResponse';
import type { ListPeersResponse__Output } from '../../agent/src/api/gen/knit/v1/ListPeersResponse';
import type { ListEndpointsResponse__Output } from '../../agent/src/api/gen/knit/v1/ListEndpointsResponse';
import type { ListBgpSessionsResponse__Output } from '../../agent/src/api/gen/knit/v1/ListBgpSessionsResponse';
import type { ListBgpRoutesResponse__Output } from '../../agent/src/api/gen/knit/v1/ListBgpRoutesResponse';
import { createKnitMetrics } from '../../agent/src/metrics';
import { silentLogger } from '../../agent/src/log/logger';
import { parsePrometheusText, sampleValue } from '../support/metrics-text-parser';
import { T0 } from '../support/api-fake-source';
import { makeClient, must, outcome, startHarness, tempDir, type Harness } from './api-harness';
import { cleanupAll } from '../lab/cleanup';

describe('api server over a real unix socket', function () {
  this.timeout(30_000);
  let h: Harness;
  let client: KnitClient;
  const metrics = createKnitMetrics({ processMetrics: false });

  before(async () => {
    h = await startHarness({ metrics: metrics.metrics, watchQueueLimit: 64 });
    client = makeClient(`unix:${h.socketPath}`);
  });
  after(async () => {
    await cleanupAll([
      () => client?.close(),
      () => h?.close(),
    ]);
  });

  it('creates the parent directory and a root-only 0600 socket, leaving no staging directory', () => {
    const st = fs.lstatSync(h.socketPath);
    expect(st.isSocket()).to.equal(true);
    expect(st.mode & 0o777).to.equal(0o600);
    expect(st.uid).to.equal(0);
    expect(fs.readdirSync(path.dirname(h.socketPath))).to.deep.equal(['knitd.sock']);
  });

  it('refuses to take over a socket another server is serving', async () => {
    const other = new ApiServer({ source: h.source, logger: silentLogger(), socketPath: h.socketPath });
    let err: Error | undefined;
    await other.start().catch((e: Error) => (err = e));
    expect(err?.message).to.match(/in use by another process/);
    expect(fs.lstatSync(h.socketPath).isSocket()).to.equal(true);
    expect((await must<Node__Output>((o, cb) => client.getNode({}, o, cb))).name).to.equal('node-a');
  });

  it('replaces a stale socket left by a killed process', async () => {
    const dir = tempDir('api-stale');
    const sock = path.join(dir, 'knitd.sock');
    try {
      const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => console.log('up'))`]);
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      expect(fs.lstatSync(sock).isSocket()).to.equal(true);
      const s = new ApiServer({ source: h.source, logger: silentLogger(), socketPath: sock });
      await s.start();
      const c = makeClient(`unix:${sock}`);
      try {
        expect((await must<Node__Output>((o, cb) => c.getNode({}, o, cb))).name).to.equal('node-a');
      } finally {
        c.close();
        await s.close();
      }
      expect(fs.existsSync(sock)).to.equal(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a socket path that is a regular file', async () => {
    const dir = tempDir('api-file');
    try {
      fs.writeFileSync(path.join(dir, 'knitd.sock'), 'precious');
      const s = new ApiServer({ source: h.source, logger: silentLogger(), socketPath: path.join(dir, 'knitd.sock') });
      let err: Error | undefined;
      await s.start().catch((e: Error) => (err = e));
      expect(err?.message).to.match(/exists and is not a socket/);
      expect(fs.readFileSync(path.join(dir, 'knitd.sock'), 'utf8')).to.equal('precious');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ListEndpoints: served from one encoded snapshot while the source\'s endpoint version holds, rebuilt when it moves', async () => {
    const list = async () => (await must<ListEndpointsResponse__Output>((o, cb) => client.listEndpoints({}, o, cb))).endpoints.map((e) => e.containerId);
    h.source.epVersion = 1;
    try {
      const calls0 = h.source.listEndpointsCalls;
      const first = await list();
      expect(first).to.deep.equal(['c0ffee01', 'c0ffee02']);
      for (let i = 0; i < 5; i++) expect(await list()).to.deep.equal(first);
      expect(h.source.listEndpointsCalls - calls0, 'the source is read once for six calls').to.equal(1);
      h.source.endpoints = [...h.source.endpoints, { ...h.source.endpoints[0]!, containerId: 'c0ffee03', address: '10.244.1.4/24' }];
      h.source.epVersion = 2;
      expect(await list()).to.deep.equal(['c0ffee01', 'c0ffee02', 'c0ffee03']);
      expect(h.source.listEndpointsCalls - calls0).to.equal(2);
      // a filtered call always reads the source
      const one = await must<ListEndpointsResponse__Output>((o, cb) => client.listEndpoints({ containerId: 'c0ffee03' }, o, cb));
      expect(one.endpoints.map((e) => e.address)).to.deep.equal(['10.244.1.4/24']);
    } finally {
      h.source.epVersion = undefined;
      h.source.endpoints = h.source.endpoints.filter((e) => e.containerId !== 'c0ffee03');
    }
  });

  it('answers GetNode, ListSubnets, ListPeers, ListEndpoints and GetEndpoint from the source', async () => {
    const node = await must<Node__Output>((o, cb) => client.getNode({}, o, cb));
    expect(node).to.deep.include({ name: 'node-a', subnet: '10.244.1.0/24', mtu: 1450, leaseExpiresAt: '2026-11-23T06:00:00.000Z' });
    const subnets = await must<ListSubnetsResponse__Output>((o, cb) => client.listSubnets({}, o, cb));
    expect(subnets.leases.map((l) => [l.subnet, l.nodeName, l.own])).to.deep.equal([['10.244.1.0/24', 'node-a', true], ['10.244.2.0/24', 'node-b', false]]);
    expect(subnets.invalidSkipped).to.equal(1);
    const one = await must<ListSubnetsResponse__Output>((o, cb) => client.listSubnets({ subnet: '10.244.2.0/24' }, o, cb));
    expect(one.leases.map((l) => l.nodeName)).to.deep.equal(['node-b']);
    const peers = await must<ListPeersResponse__Output>((o, cb) => client.listPeers({}, o, cb));
    expect(peers.peers[0]).to.deep.include({ nodeName: 'node-b', inSync: false });
    const eps = await must<ListEndpointsResponse__Output>((o, cb) => client.listEndpoints({ containerId: 'c0ffee02' }, o, cb));
    expect(eps.endpoints.map((e) => e.address)).to.deep.equal(['10.244.1.3/24']);
    const ep = await must<Endpoint__Output>((o, cb) => client.getEndpoint({ containerId: 'c0ffee01' }, o, cb));
    expect(ep).to.deep.include({ hostVeth: 'veth1a2b3c4d', createdAt: T0.toISOString() });
  });

  const errors: Array<{ name: string; call: (c: KnitClient, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null) => void) => unknown; code: grpc.status; details: RegExp; setup?: (h: Harness) => void }> = [
    { name: 'bad container ID', call: (c, o, cb) => c.listEndpoints({ containerId: 'bad/../id' }, o, cb), code: grpc.status.INVALID_ARGUMENT, details: /^container_id: "bad\/..\/id" has characters/ },
    { name: 'unknown container', call: (c, o, cb) => c.listEndpoints({ containerId: 'deadbeef' }, o, cb), code: grpc.status.NOT_FOUND, details: /^no endpoint for container deadbeef on this node$/ },
    { name: 'GetEndpoint without ID', call: (c, o, cb) => c.getEndpoint({}, o, cb), code: grpc.status.INVALID_ARGUMENT, details: /^container_id: is required$/ },
    { name: 'GetEndpoint unknown ifname', call: (c, o, cb) => c.getEndpoint({ containerId: 'c0ffee01', ifname: 'net1' }, o, cb), code: grpc.status.NOT_FOUND, details: /interface net1/ },
    { name: 'GetEndpoint bad ifname', call: (c, o, cb) => c.getEndpoint({ containerId: 'c0ffee01', ifname: 'a/b' }, o, cb), code: grpc.status.INVALID_ARGUMENT, details: /^ifname:/ },
    { name: 'unknown subnet', call: (c, o, cb) => c.listSubnets({ subnet: '10.244.9.0/24' }, o, cb), code: grpc.status.NOT_FOUND, details: /^no lease holds subnet 10.244.9.0\/24$/ },
    { name: 'malformed subnet', call: (c, o, cb) => c.listSubnets({ subnet: '10.244.1.1/24' }, o, cb), code: grpc.status.INVALID_ARGUMENT, details: /^subnet: .* has host bits set$/ },
    { name: 'unknown peer', call: (c, o, cb) => c.listPeers({ nodeName: 'node-z' }, o, cb), code: grpc.status.NOT_FOUND, details: /no peer node named node-z/ },
    { name: 'bad peer name', call: (c, o, cb) => c.listPeers({ nodeName: 'Node_Z' }, o, cb), code: grpc.status.INVALID_ARGUMENT, details: /^node_name:/ },
    { name: 'BGP sessions without BGP', call: (c, o, cb) => c.listBgpSessions({}, o, cb), code: grpc.status.FAILED_PRECONDITION, details: /^BGP is not enabled/ },
    { name: 'BGP routes without BGP', call: (c, o, cb) => c.listBgpRoutes({}, o, cb), code: grpc.status.FAILED_PRECONDITION, details: /^BGP is not enabled/ },
    {
      name: 'etcd down', call: (c, o, cb) => c.listSubnets({}, o, cb), code: grpc.status.UNAVAILABLE, details: /^etcd unreachable: connect ECONNREFUSED$/,
      setup: (x) => (x.source.unavailable = 'etcd unreachable: connect ECONNREFUSED'),
    },
    {
      name: 'a bug in the source', call: (c, o, cb) => c.listEndpoints({}, o, cb), code: grpc.status.INTERNAL, details: /ListEndpoints failed inside knitd: endpoint store exploded/,
      setup: (x) => (x.source.brokenEndpoints = true),
    },
    { name: 'oversized request', call: (c, o, cb) => c.listEndpoints({ containerId: 'a'.repeat(70 * 1024) }, o, cb), code: grpc.status.RESOURCE_EXHAUSTED, details: /larger than max/i },
  ];
  for (const tc of errors) {
    it(`answers ${grpc.status[tc.code]} for ${tc.name}, and keeps serving`, async () => {
      tc.setup?.(h);
      try {
        const o = await outcome((opts, cb) => tc.call(client, opts, cb));
        expect(o.ok).to.equal(false);
        if (o.ok) return;
        expect(grpc.status[o.code]).to.equal(grpc.status[tc.code]);
        expect(o.details).to.match(tc.details);
      } finally {
        h.source.unavailable = undefined;
        h.source.brokenEndpoints = false;
      }
      expect((await must<Node__Output>((o, cb) => client.getNode({}, o, cb))).name).to.equal('node-a');
    });
  }

  it('serves BGP sessions and routes once a BGP provider is given', async () => {
    h.source.bgp = {
      sessions: () => [{ peerAddress: '192.168.50.254', peerAsn: 65000, localAsn: 65001, state: 'Established', uptimeSeconds: 10, prefixesSent: 1, prefixesReceived: 3 }],
      routes: async () => [{ prefix: '10.244.7.0/24', nextHop: '192.168.50.7', peerAddress: '192.168.50.254', asPath: [65000], installed: true }],
    };
    try {
      const s = await must<ListBgpSessionsResponse__Output>((o, cb) => client.listBgpSessions({}, o, cb));
      expect(s.sessions[0]).to.deep.include({ state: 'Established', prefixesReceived: 3 });
      const r = await must<ListBgpRoutesResponse__Output>((o, cb) => client.listBgpRoutes({}, o, cb));
      expect(r.routes[0]).to.deep.equal({ prefix: '10.244.7.0/24', nextHop: '192.168.50.7', peerAddress: '192.168.50.254', asPath: [65000], installed: true });
    } finally {
      h.source.bgp = undefined;
    }
  });

  it('honours the client deadline on a slow kernel read and serves the next call at once', async () => {
    h.source.peersDelayMs = 1500;
    try {
      const o = await outcome((opts, cb) => client.listPeers({}, opts, cb), 100);
      expect(o.ok).to.equal(false);
      if (!o.ok) expect(o.code).to.equal(grpc.status.DEADLINE_EXCEEDED);
      expect((await outcome((opts, cb) => client.getNode({}, opts, cb), 500)).ok).to.equal(true);
    } finally {
      h.source.peersDelayMs = 0;
    }
  });

  it('bounds how long it waits for the source (sourceTimeoutMs)', async () => {
    const x = await startHarness({ sourceTimeoutMs: 200 }, 'api-timeout');
    const c = makeClient(`unix:${x.socketPath}`);
    try {
      x.source.peersDelayMs = 2000;
      const o = await outcome((opts, cb) => c.listPeers({}, opts, cb), 5000);
      expect(o.ok).to.equal(false);
      if (!o.ok) {
        expect(o.code).to.equal(grpc.status.DEADLINE_EXCEEDED);
        expect(o.details).to.equal('ListPeers: knitd did not answer within 200 ms');
      }
    } finally {
      c.close();
      await x.close();
    }
  });

  it('counts calls by method and status code in knit_api_requests_total', async () => {
    const before = sampleValue(parsePrometheusText(await metrics.render()), 'knit_api_requests_total', { method: 'GetNode', code: 'OK' }) ?? 0;
    await must<Node__Output>((o, cb) => client.getNode({}, o, cb));
    await outcome((o, cb) => client.listEndpoints({ containerId: 'nope' }, o, cb));
    const fams = parsePrometheusText(await metrics.render());
    expect(sampleValue(fams, 'knit_api_requests_total', { method: 'GetNode', code: 'OK' })).to.equal(before + 1);
    expect(sampleValue(fams, 'knit_api_requests_total', { method: 'ListEndpoints', code: 'NOT_FOUND' })).to.be.at.least(1);
  });

  describe('Watch', () => {
    /** Collects events; `next()` resolves with the next one (and when it arrived). */
    function collector(stream: ClientReadableStream<WatchEvent__Output>): { events: WatchEvent__Output[]; next: () => Promise<{ ev: WatchEvent__Output; at: number }>; ended: Promise<grpc.ServiceError | undefined> } {
      const events: WatchEvent__Output[] = [];
      const waiters: Array<(v: { ev: WatchEvent__Output; at: number }) => void> = [];
      const queued: Array<{ ev: WatchEvent__Output; at: number }> = [];
      stream.on('data', (ev: WatchEvent__Output) => {
        events.push(ev);
        const item = { ev, at: performance.now() };
        const w = waiters.shift();
        if (w) w(item);
        else queued.push(item);
      });
      const ended = new Promise<grpc.ServiceError | undefined>((resolve) => {
        stream.on('error', (e: grpc.ServiceError) => resolve(e));
        stream.on('end', () => resolve(undefined));
      });
      return {
        events,
        ended,
        next: () => {
          const q = queued.shift();
          return q ? Promise.resolve(q) : new Promise((resolve) => waiters.push(resolve));
        },
      };
    }

    it('sends a snapshot first, then each lease, peer, endpoint, BGP and node change within 100 ms', async () => {
      const stream = client.watch({});
      const col = collector(stream);
      try {
        const first = (await col.next()).ev;
        expect(first.event).to.equal('snapshot');
        expect(first.sequence).to.equal(1);
        expect(first.snapshot?.leases.map((l) => l.subnet)).to.deep.equal(['10.244.1.0/24', '10.244.2.0/24']);
        expect(first.snapshot?.endpoints).to.have.length(2);
        expect(first.snapshot?.node?.name).to.equal('node-a');
        const changes = [
          { kind: 'subnet' as const, change: 'added' as const, lease: { ...h.source.leases[1], subnet: '10.244.3.0/24', nodeName: 'node-c' } },
          { kind: 'peer' as const, change: 'removed' as const, peer: { ...h.source.peers[0] } },
          { kind: 'endpoint' as const, change: 'added' as const, endpoint: { ...h.source.endpoints[0], containerId: 'new1' } },
          { kind: 'bgpSession' as const, change: 'updated' as const, session: { peerAddress: '10.0.0.1', peerAsn: 1, localAsn: 2, state: 'Idle', uptimeSeconds: 0, prefixesSent: 0, prefixesReceived: 0 } },
          { kind: 'node' as const, node: { ...h.source.node, readiness: { ok: false, reasons: ['etcd unreachable'] } } },
        ];
        const latencies: number[] = [];
        for (const [i, c] of changes.entries()) {
          const sent = performance.now();
          h.source.emit(c);
          const { ev, at } = await col.next();
          latencies.push(at - sent);
          expect(ev.event).to.equal(c.kind);
          expect(ev.sequence).to.equal(i + 2);
        }
        expect(col.events[1].subnet).to.deep.include({ change: 'CHANGE_TYPE_ADDED' });
        expect(col.events[1].subnet?.lease?.nodeName).to.equal('node-c');
        expect(col.events[2].peer?.change).to.equal('CHANGE_TYPE_REMOVED');
        expect(col.events[3].endpoint?.endpoint?.containerId).to.equal('new1');
        expect(col.events[5].node?.node?.readiness).to.deep.equal({ ok: false, reasons: ['etcd unreachable'] });
        for (const l of latencies) expect(l, `latencies ${latencies.map((x) => x.toFixed(1)).join(', ')} ms`).to.be.below(100);
      } finally {
        stream.cancel();
      }
    });

    it('drops a watcher that stops reading with RESOURCE_EXHAUSTED while another keeps receiving everything', async () => {
      // Its own connection, as a separate slow process would have (grpc-js
      // otherwise shares one HTTP/2 connection among clients of a target).
      const slowClient = makeClient(`unix:${h.socketPath}`, undefined, { 'grpc.use_local_subchannel_pool': 1 });
      const slow = slowClient.watch({});
      const fast = client.watch({});
      const slowCol = collector(slow);
      const fastCol = collector(fast);
      try {
        await slowCol.next();
        await fastCol.next();
        expect(h.server.watchers).to.equal(2);
        slow.pause();
        const total = 2000;
        const bulky = '/var/run/netns/'.padEnd(2000, 'x');
        let fastError: unknown;
        void fastCol.ended.then((e) => (fastError = e ?? 'ended'));
        // Bursts of 20 (under the limit of 64), each once the fast client has
        // read the previous ones: it keeps up, the paused one cannot.
        for (let i = 0; i < total; i++) {
          h.source.emit({ kind: 'endpoint', change: 'added', endpoint: { ...h.source.endpoints[0], containerId: `c${i}`, netns: bulky } });
          if (i % 20 !== 19) continue;
          const deadline = Date.now() + 5000;
          while (fastCol.events.length < i + 2 && fastError === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
          expect(fastError, 'fast watcher must not end').to.equal(undefined);
          expect(fastCol.events.length, `fast watcher behind after event ${i}`).to.equal(i + 2);
        }
        expect(fastCol.events.map((e) => e.endpoint?.endpoint?.containerId).slice(1, 4)).to.deep.equal(['c0', 'c1', 'c2']);
        expect(fastCol.events[total].sequence).to.equal(total + 1);
        expect(h.server.watchers).to.equal(1);
        slow.resume();
        const err = await slowCol.ended;
        expect(err?.code).to.equal(grpc.status.RESOURCE_EXHAUSTED);
        expect(err?.details).to.match(/fell more than 64 events behind and was dropped; call Watch again/);
        expect(slowCol.events.length).to.be.below(total);
        // The dropped client can watch again and gets a fresh snapshot.
        const again = collector(slowClient.watch({}));
        expect((await again.next()).ev.event).to.equal('snapshot');
        const fams = parsePrometheusText(await metrics.render());
        expect(sampleValue(fams, 'knit_api_watch_drops_total')).to.equal(1);
      } finally {
        fast.cancel();
        slowClient.close();
      }
    });

    it('frees a watcher when the client cancels, and ends streams with UNAVAILABLE on shutdown', async () => {
      const x = await startHarness({}, 'api-shutdown');
      const c = makeClient(`unix:${x.socketPath}`);
      try {
        const a = c.watch({});
        const colA = collector(a);
        await colA.next();
        const b = c.watch({});
        const colB = collector(b);
        await colB.next();
        expect(x.server.watchers).to.equal(2);
        expect(x.source.subscribers).to.equal(1);
        a.cancel();
        for (let i = 0; i < 100 && x.server.watchers > 1; i++) await new Promise((r) => setTimeout(r, 10));
        expect(x.server.watchers).to.equal(1);
        await x.server.close();
        const err = await colB.ended;
        expect(err?.code).to.equal(grpc.status.UNAVAILABLE);
        expect(err?.details).to.match(/shutting down/);
        expect(x.source.subscribers).to.equal(0);
        expect(fs.existsSync(x.socketPath)).to.equal(false);
      } finally {
        c.close();
        await x.close();
      }
    });
  });
});
