import { expect } from 'chai';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { CniServer } from '../../agent/src/cni/server';
import { CniError } from '../../agent/src/cni/errors';
import type { PluginReply, PluginRequest } from '../../cni-wire/protocol';
import { FakeHandlers, conf, rawExchange, tempDir } from '../support/cni-fakes';
import { recordingLogger } from '../support/recording-logger';


describe('cni server over a real unix socket', () => {
  let dir: string;
  let socketPath: string;
  let handlers: FakeHandlers;
  let server: CniServer;
  let lines: Record<string, unknown>[];

  async function ask(req: PluginRequest): Promise<PluginReply> {
    const text = await rawExchange(socketPath, JSON.stringify(req) + '\n');
    expect(text.endsWith('\n')).to.equal(true);
    return JSON.parse(text) as PluginReply;
  }
  function errorOf(reply: PluginReply): { code: number; msg: string; cniVersion: string } {
    if (reply.ok) throw new Error(`expected an error reply, got ${JSON.stringify(reply)}`);
    return reply.error;
  }
  const add = (cniVersion: string, extra: Partial<PluginRequest> = {}, confExtra: Record<string, unknown> = {}): PluginRequest => ({
    command: 'ADD',
    containerId: 'c0ffee',
    netns: '/run/netns/c1',
    ifname: 'eth0',
    config: JSON.stringify(conf(cniVersion, confExtra)),
    ...extra,
  });

  beforeEach(async () => {
    dir = tempDir('cni-server');
    // a parent that does not exist yet: the server must create it
    socketPath = path.join(dir, 'run', 'knit', 'cni.sock');
    handlers = new FakeHandlers();
    const rec = recordingLogger();
    lines = rec.lines;
    server = new CniServer({ socketPath, handlers, logger: rec.logger });
    await server.start();
  });
  afterEach(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates the parent directory 0755 and the socket 0600', () => {
    expect(fs.statSync(path.dirname(socketPath)).mode & 0o777).to.equal(0o755);
    const st = fs.statSync(socketPath);
    expect(st.isSocket()).to.equal(true);
    expect(st.mode & 0o777).to.equal(0o600);
  });

  it('answers ADD with the handler result in the request\'s version and passes a typed request', async () => {
    const reply = await ask(add('0.4.0', { args: 'K8S_POD_NAME=web-0;IgnoreUnknown=1', path: '/opt/cni/bin' }, { mtu: 1400 }));
    expect(reply.ok).to.equal(true);
    const result = (reply as { result: Record<string, unknown> }).result;
    expect(Object.keys(result)[0]).to.equal('cniVersion');
    expect(result.cniVersion).to.equal('0.4.0');
    expect((result.ips as { version: string }[])[0].version).to.equal('4');
    expect(handlers.calls).to.have.length(1);
    const call = handlers.calls[0];
    if (call.op !== 'add') throw new Error(`expected add, got ${call.op}`);
    expect(call.req.containerId).to.equal('c0ffee');
    expect(call.req.netns).to.equal('/run/netns/c1');
    expect(call.req.ifname).to.equal('eth0');
    expect(call.req.path).to.equal('/opt/cni/bin');
    expect(call.req.args).to.deep.equal({ K8S_POD_NAME: 'web-0', IgnoreUnknown: '1' });
    expect(call.req.conf.mtu).to.equal(1400);
    expect(call.req.prevResult).to.equal(undefined);
  });

  it('passes a converted prevResult to a chained ADD', async () => {
    const prevResult = { cniVersion: '0.3.1', interfaces: [{ name: 'eth0', sandbox: '/run/netns/c1' }], ips: [{ version: '4', address: '10.1.0.5/16', interface: 0 }] };
    const reply = await ask(add('1.0.0', {}, { prevResult }));
    expect(reply.ok).to.equal(true);
    const call = handlers.calls[0];
    if (call.op !== 'add') throw new Error('expected add');
    expect(call.req.prevResult).to.deep.equal({ interfaces: [{ name: 'eth0', sandbox: '/run/netns/c1' }], ips: [{ address: '10.1.0.5/16', interface: 0 }], routes: [], dns: {} });
  });

  it('dispatches DEL without a netns, CHECK with prevResult, STATUS and GC', async () => {
    const prevResult = { cniVersion: '1.1.0', interfaces: [{ name: 'eth0' }], ips: [{ address: '10.1.0.5/16', interface: 0 }] };
    expect(await ask({ command: 'DEL', containerId: 'c0ffee', ifname: 'eth0', config: JSON.stringify(conf('1.1.0')) })).to.deep.equal({ ok: true });
    expect(await ask({ command: 'CHECK', containerId: 'c0ffee', netns: '/run/netns/c1', ifname: 'eth0', config: JSON.stringify(conf('1.1.0', { prevResult })) })).to.deep.equal({ ok: true });
    expect(await ask({ command: 'STATUS', config: JSON.stringify(conf('1.1.0')) })).to.deep.equal({ ok: true });
    const gcConf = conf('1.1.0', { 'cni.dev/valid-attachments': [{ containerID: 'keep', ifname: 'eth0' }] });
    expect(await ask({ command: 'GC', config: JSON.stringify(gcConf) })).to.deep.equal({ ok: true });
    expect(handlers.calls.map((c) => c.op)).to.deep.equal(['del', 'check', 'status', 'gc']);
    const [del, check, , gc] = handlers.calls;
    if (del.op !== 'del' || check.op !== 'check' || gc.op !== 'gc') throw new Error('wrong order');
    expect(del.req).to.not.have.property('netns');
    expect(check.req.prevResult.ips).to.deep.equal([{ address: '10.1.0.5/16', interface: 0 }]);
    expect(gc.req.validAttachments).to.deep.equal([{ containerId: 'keep', ifname: 'eth0' }]);
  });

  const refusals: { name: string; req: PluginRequest; code: number; msg: string; version: string }[] = [
    { name: 'ADD without netns', req: { command: 'ADD', containerId: 'c', ifname: 'eth0', config: JSON.stringify(conf('1.0.0')) }, code: 4, msg: 'CNI_NETNS', version: '1.0.0' },
    { name: 'ADD with a bad container ID and ifname', req: { command: 'ADD', containerId: '-x', netns: '/n', ifname: 'a:b', config: JSON.stringify(conf('1.0.0')) }, code: 4, msg: 'CNI_CONTAINERID', version: '1.0.0' },
    { name: 'ADD with garbage CNI_ARGS', req: { command: 'ADD', containerId: 'c', netns: '/n', ifname: 'eth0', args: 'nonsense', config: JSON.stringify(conf('1.0.0')) }, code: 4, msg: 'CNI_ARGS', version: '1.0.0' },
    { name: 'ADD with an unsupported version', req: { command: 'ADD', containerId: 'c', netns: '/n', ifname: 'eth0', config: JSON.stringify(conf('0.2.0')) }, code: 1, msg: '0.2.0', version: '0.2.0' },
    { name: 'ADD with a config that is not JSON', req: { command: 'ADD', containerId: 'c', netns: '/n', ifname: 'eth0', config: '{' }, code: 6, msg: 'network configuration', version: '1.1.0' },
    { name: 'CHECK at 0.3.1', req: { command: 'CHECK', containerId: 'c', netns: '/n', ifname: 'eth0', config: JSON.stringify(conf('0.3.1')) }, code: 1, msg: 'CHECK needs 0.4.0', version: '0.3.1' },
    { name: 'CHECK without prevResult', req: { command: 'CHECK', containerId: 'c', netns: '/n', ifname: 'eth0', config: JSON.stringify(conf('1.0.0')) }, code: 7, msg: 'prevResult', version: '1.0.0' },
    { name: 'STATUS at 1.0.0', req: { command: 'STATUS', config: JSON.stringify(conf('1.0.0')) }, code: 1, msg: 'STATUS needs 1.1.0', version: '1.0.0' },
    { name: 'GC without the attachment list', req: { command: 'GC', config: JSON.stringify(conf('1.1.0')) }, code: 7, msg: 'cni.dev/valid-attachments', version: '1.1.0' },
  ];
  for (const tc of refusals) {
    it(`refuses ${tc.name} with code ${tc.code} without calling a handler`, async () => {
      const e = errorOf(await ask(tc.req));
      expect(e.code).to.equal(tc.code);
      expect(e.msg).to.include(tc.msg);
      expect(e.cniVersion).to.equal(tc.version);
      expect(handlers.calls).to.have.length(0);
    });
  }

  it('answers a garbage line with code 6 and keeps serving', async () => {
    const text = await rawExchange(socketPath, 'this is not json\n');
    const e = errorOf(JSON.parse(text) as PluginReply);
    expect(e.code).to.equal(6);
    expect(e.cniVersion).to.equal('1.1.0');
    expect((await ask(add('1.1.0'))).ok).to.equal(true);
  });

  it('answers a request line over the size bound with code 6', async () => {
    const huge = JSON.stringify(add('1.1.0', {}, { pad: 'x'.repeat(1100 * 1024) })) + '\n';
    const e = errorOf(JSON.parse(await rawExchange(socketPath, huge)) as PluginReply);
    expect(e.code).to.equal(6);
    expect(e.msg).to.include('longer than');
    expect(handlers.calls).to.have.length(0);
  });

  it('turns a handler CniError into its code and any other throw into code 100, and keeps serving', async () => {
    handlers.fail.status = new CniError(50, 'node lease not acquired yet');
    const s = errorOf(await ask({ command: 'STATUS', config: JSON.stringify(conf('1.1.0')) }));
    expect(s).to.deep.equal({ cniVersion: '1.1.0', code: 50, msg: 'node lease not acquired yet' });

    handlers.fail.add = new Error('create veth for c0ffee', { cause: new Error('EEXIST') });
    const a = errorOf(await ask(add('0.3.1')));
    expect(a).to.deep.equal({ cniVersion: '0.3.1', code: 100, msg: 'create veth for c0ffee', details: 'caused by: EEXIST' });

    delete handlers.fail.add;
    expect((await ask(add('1.1.0'))).ok).to.equal(true);
  });

  it('logs each request with command, container, duration and result code', async () => {
    await ask(add('1.1.0'));
    handlers.fail.del = new CniError(11, 'busy');
    await ask({ command: 'DEL', containerId: 'c0ffee', ifname: 'eth0', config: JSON.stringify(conf('1.1.0')) });
    const reqLines = lines.filter((l) => l.message === 'CNI request' || l.message === 'CNI request failed');
    expect(reqLines).to.have.length(2);
    expect(reqLines[0]).to.include({ command: 'ADD', containerId: 'c0ffee', ifname: 'eth0', code: 0 });
    expect(reqLines[0].durationMs).to.be.a('number');
    expect(reqLines[1]).to.include({ command: 'DEL', containerId: 'c0ffee', code: 11, error: 'busy' });
  });

  it('serves concurrent requests', async () => {
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => ask(add('1.1.0', { containerId: `c${i}` }))));
    expect(replies.every((r) => r.ok)).to.equal(true);
    expect(new Set(handlers.calls.map((c) => (c.op === 'add' ? c.req.containerId : '')))).to.have.length(20);
  });

  it('close() removes the socket file', async () => {
    await server.close();
    expect(fs.existsSync(socketPath)).to.equal(false);
  });
});

describe('cni server start-up on an existing path', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('cni-server-start');
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const mk = (socketPath: string): CniServer => new CniServer({ socketPath, handlers: new FakeHandlers(), logger: recordingLogger().logger });

  it('replaces a stale socket file nothing answers on', async () => {
    const socketPath = path.join(dir, 'cni.sock');
    // The file a crashed knitd leaves: a child listens, then is SIGKILLed
    // so nothing unlinks the socket.
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`listener child exited early (${code})`)));
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    expect(fs.statSync(socketPath).isSocket()).to.equal(true);
    const server = mk(socketPath);
    await server.start();
    expect((await rawExchange(socketPath, JSON.stringify({ command: 'STATUS', config: JSON.stringify(conf('1.1.0')) }) + '\n')).length).to.be.greaterThan(0);
    await server.close();
  });

  it('refuses to take over a socket another process answers on', async () => {
    const socketPath = path.join(dir, 'cni.sock');
    const other = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => other.listen(socketPath, r));
    try {
      let err: unknown;
      await mk(socketPath).start().catch((e: unknown) => (err = e));
      expect(String((err as Error)?.message)).to.include('in use by another process');
      expect(fs.statSync(socketPath).isSocket()).to.equal(true);
    } finally {
      await new Promise<void>((r) => other.close(() => r()));
    }
  });

  it('refuses to remove a path that is not a socket', async () => {
    const socketPath = path.join(dir, 'cni.sock');
    fs.writeFileSync(socketPath, 'precious');
    let err: unknown;
    await mk(socketPath).start().catch((e: unknown) => (err = e));
    expect(String((err as Error)?.message)).to.include('is not a socket');
    expect(fs.readFileSync(socketPath, 'utf8')).to.equal('precious');
  });
});
