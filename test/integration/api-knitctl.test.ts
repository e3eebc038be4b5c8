import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as path from 'node:path';
import { makeTestPki, type TestPki } from './api-certs';
import { startHarness, tempDir, type Harness } from './api-harness';

const KNITCTL = path.resolve(__dirname, '..', '..', '..', 'agent', 'bin', 'knitctl');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function knitctl(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(KNITCTL, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('knitctl (the real binary) against an API server with a fake source', function () {
  this.timeout(60_000);
  let h: Harness;
  let sock: string[];
  let pkiDir: string;
  let pki: TestPki;

  before(async () => {
    pkiDir = tempDir('knitctl-pki');
    pki = makeTestPki(pkiDir);
    h = await startHarness({ tcp: { address: '127.0.0.1:0', tls: { cert: pki.server.cert, key: pki.server.key, clientCa: pki.ca.cert } } }, 'knitctl');
    sock = ['--socket', h.socketPath];
  });
  after(async () => {
    await h?.close();
    if (pkiDir) fs.rmSync(pkiDir, { recursive: true, force: true });
  });

  it('status prints the node and exits 0 when healthy and ready', async () => {
    const r = await knitctl(['status', ...sock]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^Node: +node-a\n/);
    expect(r.stdout).to.match(/\nSubnet: +10\.244\.1\.0\/24\n/);
    expect(r.stdout).to.match(/\nBackend: +vxlan \(device knit\.1, VNI 1, port 8472, VTEP 0a:58:0a:f4:01:00, via eth0\)\n/);
    expect(r.stderr).to.equal('');
  });

  it('status exits 1 and says why when the node is not ready', async () => {
    h.source.node = { ...h.source.node, readiness: { ok: false, reasons: ['etcd unreachable'] } };
    try {
      const r = await knitctl(['status', ...sock]);
      expect(r.code).to.equal(1);
      expect(r.stdout).to.match(/\nReady: +NOT READY: etcd unreachable\n/);
      const j = await knitctl(['status', '-o', 'json', ...sock]);
      expect(j.code).to.equal(1);
      expect(JSON.parse(j.stdout).readiness).to.deep.equal({ ok: false, reasons: ['etcd unreachable'] });
    } finally {
      h.source.node = { ...h.source.node, readiness: { ok: true, reasons: [] } };
    }
  });

  const tables: Array<{ args: string[]; header: RegExp; rows: number; json: (j: Record<string, unknown>) => void }> = [
    { args: ['subnets'], header: /^SUBNET +NODE +PUBLIC-IP +BACKEND +BACKEND-DATA +EXPIRES +RENEWED$/, rows: 2, json: (j) => expect((j.leases as unknown[]).length).to.equal(2) },
    { args: ['peers'], header: /^NODE +SUBNET +PUBLIC-IP +BACKEND +AGENT +CHANGED +ROUTES +NEXTHOPS +NEIGHBOURS +FDB +IN-SYNC$/, rows: 1, json: (j) => expect((j.peers as Array<{ inSync: boolean }>)[0].inSync).to.equal(false) },
    { args: ['routes'], header: /^PEER +KIND +DESTINATION +VIA +DEVICE +STATE +DETAIL$/, rows: 4, json: (j) => expect((j.peers as unknown[]).length).to.equal(1) },
    { args: ['endpoints'], header: /^CONTAINER +IFNAME +ADDRESS +MAC +HOST-VETH +PORTS +NETNS +AGE$/, rows: 2, json: (j) => expect((j.endpoints as Array<{ containerId: string }>).map((e) => e.containerId)).to.deep.equal(['c0ffee01', 'c0ffee02']) },
    { args: ['endpoints', '--container', 'c0ffee01'], header: /^CONTAINER/, rows: 1, json: (j) => expect((j.endpoints as unknown[]).length).to.equal(1) },
  ];
  for (const tc of tables) {
    it(`${tc.args.join(' ')}: an aligned table, and -o json that parses`, async () => {
      const r = await knitctl([...tc.args, ...sock]);
      expect(r.code, r.stderr).to.equal(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines[0]).to.match(tc.header);
      expect(lines.slice(1).filter((l) => l !== '' && !l.includes('skipped'))).to.have.length(tc.rows);
      // Every column starts at the same offset in every row.
      const starts = [...lines[0].matchAll(/\S+/g)].map((m) => m.index);
      for (const l of lines.slice(1, 1 + tc.rows)) for (const s of starts.slice(1)) expect(l[(s as number) - 1], `row ${JSON.stringify(l)}`).to.equal(' ');
      const j = await knitctl([...tc.args, '-o', 'json', ...sock]);
      expect(j.code, j.stderr).to.equal(0);
      tc.json(JSON.parse(j.stdout) as Record<string, unknown>);
    });
  }

  it('endpoints --container exits 1 with NOT_FOUND for an unknown container, INVALID_ARGUMENT for a bad ID', async () => {
    const r = await knitctl(['endpoints', '--container', 'deadbeef', ...sock]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal('knitctl: endpoints: NOT_FOUND: no endpoint for container deadbeef on this node\n');
    const bad = await knitctl(['endpoints', '--container', 'bad id', ...sock]);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.match(/INVALID_ARGUMENT: container_id: "bad id"/);
  });

  it('bgp exits 1 with "BGP is not enabled" while there is no BGP speaker', async () => {
    const r = await knitctl(['bgp', ...sock]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal('knitctl: bgp: FAILED_PRECONDITION: BGP is not enabled on this node\n');
  });

  it('bgp sessions/routes print tables once BGP is on', async () => {
    h.source.bgp = {
      sessions: () => [{ peerAddress: '192.168.50.254', peerAsn: 65000, localAsn: 65001, state: 'Established', uptimeSeconds: 61, prefixesSent: 1, prefixesReceived: 4, prefixesAccepted: 2, prefixesRejected: { 'next-hop': 1, special: 1 }, maxPrefixHits: 0 }],
      routes: () => [{ prefix: '10.244.7.0/24', nextHop: '192.168.50.7', peerAddress: '192.168.50.254', asPath: [65000], installed: true }],
    };
    try {
      const s = await knitctl(['bgp', ...sock]);
      expect(s.code, s.stderr).to.equal(0);
      expect(s.stdout.split('\n')[1]).to.match(/^192\.168\.50\.254 +65000 +65001 +Established +1m1s +1 +4 +2 +2 \(next-hop 1, special 1\) +0 +-$/);
      const r = await knitctl(['bgp', 'routes', '-o', 'json', ...sock]);
      expect(JSON.parse(r.stdout).routes[0].prefix).to.equal('10.244.7.0/24');
    } finally {
      h.source.bgp = undefined;
    }
  });

  it('watch prints the snapshot and then each change as it happens', async () => {
    const child = spawn(KNITCTL, ['watch', '--count', '3', '-o', 'json', ...sock]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      for (let i = 0; i < 400 && !out.includes('\n'); i++) await new Promise((r) => setTimeout(r, 25));
      h.source.emit({ kind: 'subnet', change: 'added', lease: { ...h.source.leases[1], subnet: '10.244.3.0/24', nodeName: 'node-c' } });
      h.source.emit({ kind: 'endpoint', change: 'removed', endpoint: { ...h.source.endpoints[1] } });
      expect(await exited).to.equal(0);
      const events = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, { change?: string; lease?: { subnet: string } }>);
      expect(events.map((e) => e.event)).to.deep.equal(['snapshot', 'subnet', 'endpoint']);
      expect(events[1].subnet.lease?.subnet).to.equal('10.244.3.0/24');
      expect(events[2].endpoint.change).to.equal('CHANGE_TYPE_REMOVED');
    } finally {
      if (child.exitCode === null) child.kill();
    }
  });

  it('talks to knitd over TCP with mutual TLS', async () => {
    const tls = ['--address', `127.0.0.1:${h.server.tcpPort as number}`, '--tls-cert', pki.client.certFile, '--tls-key', pki.client.keyFile, '--tls-ca', pki.ca.certFile];
    const r = await knitctl(['status', ...tls]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^Node: +node-a/);
    const foreign = ['--address', `127.0.0.1:${h.server.tcpPort as number}`, '--tls-cert', pki.foreignClient.certFile, '--tls-key', pki.foreignClient.keyFile, '--tls-ca', pki.ca.certFile, '--timeout', '2'];
    const t0 = Date.now();
    const f = await knitctl(['status', ...foreign]);
    expect(f.code).to.equal(3);
    // the handshake failure is the answer: no waiting for the deadline
    expect(f.stderr).to.match(/^knitctl: cannot reach knitd at 127\.0\.0\.1:\d+ \(TLS\): the TLS handshake failed: check that the certificates match/);
    expect(Date.now() - t0, 'fails before the 2 s deadline').to.be.below(2000);
  });

  it('--address to a closed port fails at once with "nothing listens" (no certificate talk under --insecure)', async () => {
    const free = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(port));
      });
    });
    const t0 = Date.now();
    const r = await knitctl(['status', '--address', `127.0.0.1:${free}`, '--insecure']);
    expect(r.code).to.equal(3);
    expect(r.stderr).to.equal(`knitctl: cannot reach knitd at 127.0.0.1:${free}: nothing listens there; check --address (knitd serves its API on TCP only at its grpc.address) (ECONNREFUSED)\n`);
    expect(r.stderr).to.not.match(/certificate/);
    expect(Date.now() - t0).to.be.below(2000);
  });

  it('a server that is not knitd\'s API gets words, not raw gRPC text (HTTP/2 answering 404; HTTP/1 answering at all)', async () => {
    const h2 = http2.createServer((_req, res) => { res.statusCode = 404; res.end('nope'); });
    const h1 = http.createServer((_req, res) => { res.statusCode = 404; res.end('nope'); });
    await Promise.all([new Promise<void>((r) => h2.listen(0, '127.0.0.1', r)), new Promise<void>((r) => h1.listen(0, '127.0.0.1', r))]);
    try {
      const p2 = (h2.address() as net.AddressInfo).port;
      const r2 = await knitctl(['status', '--address', `127.0.0.1:${p2}`, '--insecure']);
      expect(r2.code).to.equal(1);
      expect(r2.stderr).to.equal(`knitctl: status: the server at 127.0.0.1:${p2} (plaintext) is not knitd's API (it answered HTTP 404); point --address at knitd's grpc.address, not at another port such as the metrics one\n`);
      const p1 = (h1.address() as net.AddressInfo).port;
      const t0 = Date.now();
      const r1 = await knitctl(['status', '--address', `127.0.0.1:${p1}`, '--insecure', '--timeout', '3']);
      expect(r1.code).to.equal(3);
      expect(r1.stderr).to.match(/^knitctl: cannot reach knitd at 127\.0\.0\.1:\d+ \(plaintext\): it accepts TCP but does not speak plaintext gRPC/);
      expect(Date.now() - t0, 'no wait for the deadline').to.be.below(3000);
      for (const r of [r1, r2]) expect(r.stderr).to.not.match(/UNIMPLEMENTED|UNAVAILABLE|Received HTTP|No connection established/);
    } finally {
      h2.close();
      h1.close();
    }
  });

  it('version and --version print knitctl\'s and knitd\'s versions; knitd unreachable: its line says why, exit 3', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
    for (const args of [['version'], ['--version']]) {
      const r = await knitctl([...args, ...sock]);
      expect(r.code, r.stderr).to.equal(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines[0]).to.equal(`knitctl  ${pkg.version} (api knit.v1, node ${process.versions.node})`);
      // the fake source reports knitd 0.1.0; the server fills in the API version and runtime
      expect(lines[1]).to.match(new RegExp(`^knitd    0\\.1\\.0 \\(api knit\\.v1, node ${process.versions.node.replace(/\./g, '\\.')}, grpc-js [0-9.]+\\) at ${h.socketPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    }
    const j = await knitctl(['version', '-o', 'json', ...sock]);
    expect((JSON.parse(j.stdout) as { knitctl: { version: string }; knitd: { api: string } }).knitd.api).to.equal('knit.v1');
    const gone = await knitctl(['version', '--socket', path.join(h.dir, 'absent.sock')]);
    expect(gone.code).to.equal(3);
    expect(gone.stdout).to.match(/^knitctl  \S+ \(api knit\.v1, /);
    expect(gone.stdout).to.include('knitd    not reachable: cannot reach knitd at').and.include('(ENOENT)');
  });

  it('exits 3 with "is knitd running?" when the socket is missing', async () => {
    const r = await knitctl(['status', '--socket', path.join(h.dir, 'nothing-here.sock')]);
    expect(r.code).to.equal(3);
    expect(r.stderr).to.equal(`knitctl: cannot reach knitd at ${path.join(h.dir, 'nothing-here.sock')}: is knitd running? (ENOENT)\n`);
    expect(r.stdout).to.equal('');
  });

  it('exits 2 on usage errors and 0 on --help', async () => {
    const u = await knitctl(['status', '--frob']);
    expect(u.code).to.equal(2);
    expect(u.stderr).to.include('unknown flag --frob');
    const help = await knitctl(['routes', '--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.include('Usage: knitctl routes [flags]');
  });
});
