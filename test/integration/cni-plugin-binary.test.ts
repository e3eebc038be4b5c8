/**
 * The real `knit` binary (cni-plugin/bin/knit), exec'd the way a runtime
 * does it: CNI_* variables, configuration on stdin, answer on stdout, exit
 * code. knitd is played by a CniServer with fake handlers on a temp socket.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { CniServer } from '../../agent/src/cni/server';
import { CniError } from '../../agent/src/cni/errors';
import { formatResult } from '../../agent/src/cni/result';
import { silentLogger } from '../../agent/src/log/logger';
import { SUPPORTED_VERSIONS } from '../../cni-wire/spec';
import { FakeHandlers, SAMPLE_RESULT, conf, moduleRecorder, recordedModules, runKnit, tempDir } from '../support/cni-fakes';
import type { Run } from '../support/cni-fakes';

import { KNIT, REPO } from '../support/cni-fakes';

function errorBody(r: Run): { cniVersion: string; code: number; msg: string } {
  expect(r.code, `exit code; stdout=${r.stdout} stderr=${r.stderr}`).to.equal(1);
  return JSON.parse(r.stdout) as { cniVersion: string; code: number; msg: string };
}

describe('knit plugin binary', () => {
  let dir: string;
  let socketPath: string;
  let handlers: FakeHandlers;
  let server: CniServer;
  const attach = { CNI_CONTAINERID: 'c0ffee', CNI_NETNS: '/run/netns/c1', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' };
  const cfg = (v: string, extra: Record<string, unknown> = {}): string => JSON.stringify(conf(v, { agentSocket: socketPath, ...extra }));

  before(() => {
    expect(fs.statSync(KNIT).mode & 0o777, 'bin/knit mode').to.equal(0o755);
  });
  beforeEach(async () => {
    dir = tempDir('cni-plugin');
    socketPath = path.join(dir, 'cni.sock');
    handlers = new FakeHandlers();
    server = new CniServer({ socketPath, handlers, logger: silentLogger() });
    await server.start();
  });
  afterEach(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('VERSION (no knitd involved)', () => {
    it('echoes the requested cniVersion and lists the supported versions', async () => {
      await server.close();
      const r = await runKnit({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.4.0"}');
      expect(r.code).to.equal(0);
      expect(r.stdout).to.equal('{"cniVersion":"0.4.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}\n');
    });
    it('answers with the newest version when stdin is empty', async () => {
      const r = await runKnit({ CNI_COMMAND: 'VERSION' }, '');
      expect(r.code).to.equal(0);
      expect(JSON.parse(r.stdout)).to.deep.equal({ cniVersion: '1.1.0', supportedVersions: [...SUPPORTED_VERSIONS] });
    });
    it('works through a symlink in another directory (a CNI bin dir)', async () => {
      const binDir = path.join(dir, 'opt-cni-bin');
      fs.mkdirSync(binDir);
      fs.symlinkSync(KNIT, path.join(binDir, 'knit'));
      const r = await runKnit({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}', path.join(binDir, 'knit'));
      expect(r.code, r.stderr).to.equal(0);
      expect(JSON.parse(r.stdout).cniVersion).to.equal('1.0.0');
    });
  });

  describe('ADD prints the result in the request\'s version', () => {
    for (const v of SUPPORTED_VERSIONS) {
      it(`cniVersion ${v}`, async () => {
        const r = await runKnit({ CNI_COMMAND: 'ADD', ...attach, CNI_ARGS: 'K8S_POD_NAME=web-0' }, cfg(v));
        expect(r.code, r.stdout + r.stderr).to.equal(0);
        expect(r.stdout).to.equal(JSON.stringify(formatResult(SAMPLE_RESULT, v)) + '\n');
        const call = handlers.calls[0];
        if (call?.op !== 'add') throw new Error('handler add was not called');
        expect(call.req.args).to.deep.equal({ K8S_POD_NAME: 'web-0' });
        expect(call.req.path).to.equal('/opt/cni/bin');
      });
    }
  });

  it('DEL without CNI_NETNS succeeds with empty stdout', async () => {
    const r = await runKnit({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c0ffee', CNI_IFNAME: 'eth0' }, cfg('1.1.0'));
    expect(r.code).to.equal(0);
    expect(r.stdout).to.equal('');
    expect(handlers.calls.map((c) => c.op)).to.deep.equal(['del']);
  });

  it('prints knitd\'s error and exits 1', async () => {
    handlers.fail.add = new CniError(11, 'subnet lease not acquired yet');
    const e = errorBody(await runKnit({ CNI_COMMAND: 'ADD', ...attach }, cfg('1.0.0')));
    expect(e).to.deep.equal({ cniVersion: '1.0.0', code: 11, msg: 'subnet lease not acquired yet' });
  });

  describe('bad input is refused before knitd is asked', () => {
    const cases: { name: string; env: Record<string, string>; stdin?: string; code: number; msg: string; version?: string }[] = [
      { name: 'no CNI_COMMAND', env: {}, code: 4, msg: 'CNI_COMMAND' },
      { name: 'unknown CNI_COMMAND', env: { CNI_COMMAND: 'FROB', ...attach }, code: 4, msg: 'CNI_COMMAND', version: '1.1.0' },
      { name: 'ADD without CNI_CONTAINERID', env: { CNI_COMMAND: 'ADD', CNI_NETNS: '/n', CNI_IFNAME: 'eth0' }, code: 4, msg: 'CNI_CONTAINERID' },
      { name: 'ADD with a container ID starting with "-"', env: { CNI_COMMAND: 'ADD', ...attach, CNI_CONTAINERID: '-abc' }, code: 4, msg: 'CNI_CONTAINERID' },
      { name: 'ADD with a container ID containing "/"', env: { CNI_COMMAND: 'ADD', ...attach, CNI_CONTAINERID: 'a/b' }, code: 4, msg: 'CNI_CONTAINERID' },
      { name: 'ADD without CNI_NETNS', env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c', CNI_IFNAME: 'eth0' }, code: 4, msg: 'CNI_NETNS' },
      { name: 'CHECK without CNI_IFNAME', env: { CNI_COMMAND: 'CHECK', CNI_CONTAINERID: 'c', CNI_NETNS: '/n' }, code: 4, msg: 'CNI_IFNAME' },
      { name: 'DEL without CNI_CONTAINERID and CNI_IFNAME (both named)', env: { CNI_COMMAND: 'DEL' }, code: 4, msg: 'CNI_CONTAINERID must not be empty; CNI_IFNAME' },
      { name: 'a 16-character ifname', env: { CNI_COMMAND: 'ADD', ...attach, CNI_IFNAME: 'abcdefghijklmnop' }, code: 4, msg: 'CNI_IFNAME' },
      { name: 'ifname ".."', env: { CNI_COMMAND: 'ADD', ...attach, CNI_IFNAME: '..' }, code: 4, msg: 'CNI_IFNAME' },
      { name: 'ifname with ":"', env: { CNI_COMMAND: 'ADD', ...attach, CNI_IFNAME: 'eth0:1' }, code: 4, msg: 'CNI_IFNAME' },
      { name: 'ifname with a space', env: { CNI_COMMAND: 'ADD', ...attach, CNI_IFNAME: 'eth 0' }, code: 4, msg: 'CNI_IFNAME' },
      { name: 'stdin not JSON', env: { CNI_COMMAND: 'ADD', ...attach }, stdin: 'cniVersion: 1.0.0', code: 6, msg: 'decoding', version: '1.1.0' },
      { name: 'stdin a JSON list', env: { CNI_COMMAND: 'ADD', ...attach }, stdin: '[]', code: 6, msg: 'not a JSON object' },
      { name: 'no cniVersion', env: { CNI_COMMAND: 'ADD', ...attach }, stdin: '{"name":"n","type":"knit"}', code: 7, msg: 'cniVersion', version: '1.1.0' },
      { name: 'unsupported cniVersion', env: { CNI_COMMAND: 'ADD', ...attach }, stdin: '{"cniVersion":"0.2.0","name":"n","type":"knit"}', code: 1, msg: '0.2.0', version: '0.2.0' },
      { name: 'no name', env: { CNI_COMMAND: 'ADD', ...attach }, stdin: '{"cniVersion":"1.0.0","type":"knit"}', code: 7, msg: 'name', version: '1.0.0' },
      { name: 'no type', env: { CNI_COMMAND: 'ADD', ...attach }, stdin: '{"cniVersion":"0.4.0","name":"n"}', code: 7, msg: 'type', version: '0.4.0' },
      { name: 'CHECK with a 0.3.1 config', env: { CNI_COMMAND: 'CHECK', ...attach }, stdin: '{"cniVersion":"0.3.1","name":"n","type":"knit"}', code: 1, msg: 'CHECK', version: '0.3.1' },
      { name: 'GC with a 1.0.0 config', env: { CNI_COMMAND: 'GC' }, stdin: '{"cniVersion":"1.0.0","name":"n","type":"knit"}', code: 1, msg: 'GC', version: '1.0.0' },
    ];
    for (const tc of cases) {
      it(`${tc.name} → code ${tc.code}`, async () => {
        const e = errorBody(await runKnit(tc.env, tc.stdin ?? cfg('1.1.0')));
        expect(e.code).to.equal(tc.code);
        expect(e.msg).to.include(tc.msg);
        expect(e.cniVersion).to.equal(tc.version ?? '1.1.0');
        expect(handlers.calls).to.have.length(0);
      });
    }
    it('a configuration error knitd finds (bad mtu) comes back as code 7', async () => {
      const e = errorBody(await runKnit({ CNI_COMMAND: 'ADD', ...attach }, cfg('1.0.0', { mtu: 'big' })));
      expect(e.code).to.equal(7);
      expect(e.msg).to.include('mtu');
      expect(handlers.calls).to.have.length(0);
    });
  });

  describe('knitd unreachable', () => {
    const cmds: { command: string; env: Record<string, string>; code: number }[] = [
      { command: 'ADD', env: attach, code: 11 },
      { command: 'DEL', env: attach, code: 11 },
      { command: 'CHECK', env: attach, code: 11 },
      { command: 'GC', env: {}, code: 11 },
      { command: 'STATUS', env: {}, code: 50 },
    ];
    for (const tc of cmds) {
      it(`${tc.command} with no socket → code ${tc.code} naming the socket`, async () => {
        const missing = path.join(dir, 'absent.sock');
        const stdin = JSON.stringify(conf('1.1.0', { agentSocket: missing, 'cni.dev/valid-attachments': [], prevResult: { ips: [{ address: '10.0.0.2/24' }] } }));
        const e = errorBody(await runKnit({ CNI_COMMAND: tc.command, ...tc.env }, stdin));
        expect(e.code).to.equal(tc.code);
        expect(e.msg).to.include(`knitd unreachable at ${missing}`);
        expect(e.msg).to.include('ENOENT');
        expect(e.cniVersion).to.equal('1.1.0');
      });
    }

    it('a socket file nobody listens on → code 11 (ECONNREFUSED)', async () => {
      await server.close();
      // a leftover socket file: bound by a child that is then SIGKILLed
      const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
      const e = errorBody(await runKnit({ CNI_COMMAND: 'ADD', ...attach }, cfg('0.4.0')));
      expect(e.code).to.equal(11);
      expect(e.msg).to.include('ECONNREFUSED');
      expect(e.cniVersion).to.equal('0.4.0');
      fs.rmSync(socketPath, { force: true });
    });

    it('no reply within KNIT_PLUGIN_TIMEOUT_MS → code 11', async () => {
      const silent = path.join(dir, 'silent.sock');
      const held: net.Socket[] = [];
      const mute = net.createServer((s) => held.push(s));
      await new Promise<void>((r) => mute.listen(silent, r));
      try {
        const e = errorBody(await runKnit({ CNI_COMMAND: 'ADD', ...attach, KNIT_PLUGIN_TIMEOUT_MS: '300' }, JSON.stringify(conf('1.0.0', { agentSocket: silent }))));
        expect(e.code).to.equal(11);
        expect(e.msg).to.include('no reply within 300 ms');
        expect(held).to.have.length(1);
      } finally {
        for (const s of held) s.destroy();
        await new Promise<void>((r) => mute.close(() => r()));
      }
    });
  });

  describe('loads only Node built-ins', () => {
    // the plugin's files and the wire protocol it shares with knitd (cni-wire/), nothing else
    const ownDirs = [path.join(REPO, 'dist', 'cni-plugin', 'src'), path.join(REPO, 'dist', 'cni-wire')];
    const own = (f: string): boolean => f === fs.realpathSync(KNIT) || ownDirs.some((d) => f.startsWith(d + path.sep));

    it('VERSION: only the plugin\'s own files, and no net', async () => {
      const out = path.join(dir, 'version.json');
      const r = await runKnit({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.1.0"}', KNIT, ['--require', moduleRecorder(dir, out)]);
      expect(r.code, r.stderr).to.equal(0);
      const rec = recordedModules(out);
      expect(rec.files.length).to.be.greaterThan(1);
      expect(rec.files.filter((f) => !own(f))).to.deep.equal([]);
      expect(rec.net).to.equal(false);
    });

    it('ADD: only the plugin\'s own files plus the net built-in', async () => {
      const out = path.join(dir, 'add.json');
      const r = await runKnit({ CNI_COMMAND: 'ADD', ...attach }, cfg('1.1.0'), KNIT, ['--require', moduleRecorder(dir, out)]);
      expect(r.code, r.stdout + r.stderr).to.equal(0);
      const rec = recordedModules(out);
      expect(rec.files.filter((f) => !own(f))).to.deep.equal([]);
      expect(rec.files.some((f) => f.includes('node_modules') || f.includes(`${path.sep}agent${path.sep}`))).to.equal(false);
      expect(rec.net).to.equal(true);
    });
  });
});
