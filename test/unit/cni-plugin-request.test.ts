import { expect } from 'chai';
import { prepare } from '../../cni-plugin/src/request';
import type { Prepared } from '../../cni-plugin/src/request';
import { decodeReply } from '../../cni-plugin/src/forward';
import { DEFAULT_TIMEOUT_MS, run, timeoutFrom } from '../../cni-plugin/src/main';
import type { PluginEnv } from '../../cni-plugin/src/request';
import { DEFAULT_AGENT_SOCKET } from '../../cni-wire/protocol';
import { ifnameProblem, containerIdProblem } from '../../cni-wire/spec';

function forwarded(p: Prepared): Extract<Prepared, { kind: 'forward' }> {
  if (p.kind !== 'forward') throw new Error(`expected a forward, got ${p.stdout}`);
  return p;
}

describe('cni plugin: preparing an invocation', () => {
  it('does not read stdin when CNI_COMMAND is missing (no hang at a terminal)', () => {
    let read = false;
    const p = prepare({}, () => {
      read = true;
      return '';
    });
    expect(read).to.equal(false);
    expect(p).to.deep.include({ kind: 'done', exitCode: 1 });
    expect(JSON.parse((p as { stdout: string }).stdout)).to.deep.equal({ cniVersion: '1.1.0', code: 4, msg: 'invalid environment: CNI_COMMAND is not set' });
  });

  it('answers VERSION whatever stdin holds: the requested version, else the newest', () => {
    const out = (stdin: string): unknown => JSON.parse((prepare({ CNI_COMMAND: 'VERSION' }, () => stdin) as { stdout: string }).stdout);
    const all = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];
    expect(out('{"cniVersion":"0.3.1"}')).to.deep.equal({ cniVersion: '0.3.1', supportedVersions: all });
    expect(out('')).to.deep.equal({ cniVersion: '1.1.0', supportedVersions: all });
    expect(out('not json')).to.deep.equal({ cniVersion: '1.1.0', supportedVersions: all });
    expect(out('{"cniVersion":7}')).to.deep.equal({ cniVersion: '1.1.0', supportedVersions: all });
  });

  it('reports a stdin read failure as code 5', () => {
    const p = prepare({ CNI_COMMAND: 'ADD' }, () => {
      throw new Error('EIO');
    });
    expect(JSON.parse((p as { stdout: string }).stdout).code).to.equal(5);
  });

  it('forwards the raw configuration, the set CNI_* variables and the default socket', () => {
    const config = '{"cniVersion":"0.4.0","name":"knit","type":"knit"}';
    const p = forwarded(prepare({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'abc', CNI_IFNAME: 'eth0', CNI_NETNS: '', CNI_ARGS: 'A=1', CNI_PATH: '/opt/cni/bin' }, () => config));
    expect(p.socketPath).to.equal(DEFAULT_AGENT_SOCKET);
    expect(p.cniVersion).to.equal('0.4.0');
    expect(p.request).to.deep.equal({ command: 'DEL', config, containerId: 'abc', ifname: 'eth0', args: 'A=1', path: '/opt/cni/bin' });
  });

  it('uses agentSocket and picks the highest supported cniVersions entry when cniVersion is absent', () => {
    const config = JSON.stringify({ cniVersions: ['0.3.1', '1.0.0', '3.0.0'], name: 'knit', type: 'knit', agentSocket: '/run/other/cni.sock' });
    const p = forwarded(prepare({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'abc', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0' }, () => config));
    expect(p.socketPath).to.equal('/run/other/cni.sock');
    expect(p.cniVersion).to.equal('1.0.0');
  });

  it('refuses STATUS when the chosen version predates it (code 1)', () => {
    const config = JSON.stringify({ cniVersions: ['0.3.1', '1.0.0'], name: 'knit', type: 'knit' });
    const p = prepare({ CNI_COMMAND: 'STATUS' }, () => config);
    expect(JSON.parse((p as { stdout: string }).stdout)).to.deep.equal({ cniVersion: '1.0.0', code: 1, msg: 'incompatible CNI version 1.0.0: STATUS needs 1.1.0 or newer' });
  });
});

describe('cni plugin: attachment variable rules', () => {
  const ids: [string, boolean][] = [['abc', true], ['0a1b2c', true], ['a_b.c-d', true], ['', false], ['-a', false], ['.a', false], ['a/b', false], ['a b', false], ['ü', false], ['a'.repeat(256), true], ['a'.repeat(257), false], ['a'.repeat(10_000), false]];
  for (const [id, ok] of ids) {
    it(`container ID ${JSON.stringify(id.length > 20 ? `${id.slice(0, 3)}…(${id.length})` : id)} is ${ok ? 'valid' : 'invalid'}`, () => {
      expect(containerIdProblem(id) === undefined).to.equal(ok);
    });
  }
  const names: [string, boolean][] = [['eth0', true], ['a', true], ['abcdefghijklmno', true], ['abcdefghijklmnop', false], ['', false], ['.', false], ['..', false], ['a/b', false], ['a:b', false], ['a\tb', false]];
  for (const [n, ok] of names) {
    it(`ifname ${JSON.stringify(n)} is ${ok ? 'valid' : 'invalid'}`, () => {
      expect(ifnameProblem(n) === undefined).to.equal(ok);
    });
  }
});

describe('cni plugin: knitd replies and timeout setting', () => {
  it('accepts the two reply shapes and rejects others', () => {
    expect(decodeReply('{"ok":true}')).to.deep.equal({ ok: true, reply: { ok: true } });
    expect(decodeReply('{"ok":true,"result":{"cniVersion":"1.0.0"}}')).to.deep.equal({ ok: true, reply: { ok: true, result: { cniVersion: '1.0.0' } } });
    expect(decodeReply('{"ok":false,"error":{"cniVersion":"1.0.0","code":7,"msg":"m","details":"d"}}')).to.deep.equal({
      ok: true,
      reply: { ok: false, error: { cniVersion: '1.0.0', code: 7, msg: 'm', details: 'd' } },
    });
    for (const bad of ['nope', 'null', '{"ok":false}', '{"ok":false,"error":{"code":"7","msg":"m","cniVersion":"1.0.0"}}']) {
      expect(decodeReply(bad).ok, bad).to.equal(false);
    }
  });

  it('reads KNIT_PLUGIN_TIMEOUT_MS only when it is a positive integer', () => {
    expect(timeoutFrom({})).to.equal(DEFAULT_TIMEOUT_MS);
    expect(timeoutFrom({ KNIT_PLUGIN_TIMEOUT_MS: '250' })).to.equal(250);
    for (const v of ['0', '-5', '1.5', 'soon', '']) expect(timeoutFrom({ KNIT_PLUGIN_TIMEOUT_MS: v })).to.equal(DEFAULT_TIMEOUT_MS);
  });

  describe('run: stdin and stdout through the injected streams', () => {
    const invoke = async (env: PluginEnv, readStdin: () => Promise<string>): Promise<{ code: number; out: string; reads: number }> => {
      let out = '';
      let reads = 0;
      const code = await run({ env, readStdin: () => { reads++; return readStdin(); }, writeStdout: async (t) => { out += t; } });
      return { code, out, reads };
    };

    it('reads no stdin without CNI_COMMAND, and says so with code 4', async () => {
      const r = await invoke({}, () => Promise.resolve('{}'));
      expect(r.reads).to.equal(0);
      expect(r.code).to.equal(1);
      expect(JSON.parse(r.out)).to.include({ code: 4 });
    });

    it('a failed stdin read is an I/O error (code 5) naming the cause', async () => {
      const r = await invoke({ CNI_COMMAND: 'ADD' }, () => Promise.reject(new Error('EIO: i/o error, read')));
      expect(r.reads).to.equal(1);
      expect(r.code).to.equal(1);
      const e = JSON.parse(r.out) as { code: number; msg: string };
      expect(e.code).to.equal(5);
      expect(e.msg).to.match(/stdin: EIO: i\/o error, read/);
    });

    it('VERSION answers from what stdin held, and waits for its write', async () => {
      let out = '';
      const code = await run({
        env: { CNI_COMMAND: 'VERSION' }, readStdin: async () => '{"cniVersion":"0.4.0"}',
        writeStdout: (t) => new Promise((resolve) => setTimeout(() => { out += t; resolve(); }, 5)),
      });
      expect(code).to.equal(0);
      expect(JSON.parse(out)).to.include({ cniVersion: '0.4.0' });
    });
  });
});
