/**
 * The CNI socket's limits against a real knitd and the real plugin: beyond
 * cniMaxConnections a connection is answered at once with code 11 and
 * closed (the plugin reports it), idle connections are closed after
 * cniIdleTimeoutSeconds, and knitd's file descriptors come back to where
 * they were.
 */
import { expect } from 'chai';
import * as net from 'node:net';
import type { Lab } from '../lab/lab';
import { cniEnv, type Knitd, withOneNodeKnitd } from '../lab/knitd';

function connect(path: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ path }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Everything the server sends until it closes the connection. */
function readToClose(s: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    s.on('data', (b: Buffer) => { data += b.toString('utf8'); });
    s.on('error', () => undefined);
    s.on('close', () => resolve(data));
  });
}

describe('CNI socket: connection cap and idle timeout', function () {
  this.timeout(60_000);
  let lab: Lab;
  let knitd: Knitd;
  withOneNodeKnitd((l, k) => { lab = l; knitd = k; }, { args: ['--cni-max-connections', '8', '--cni-idle-timeout-seconds', '2'] });

  it('refuses connections beyond the cap with code 11, closes idle ones, and leaks no descriptor', async () => {
    const c = lab.addContainer(0, 'lim');
    // Warm up (bridge, nft, lazily opened files) before the fd baseline.
    expect((await knitd.cni('ADD', cniEnv(c), knitd.conf('1.1.0'))).code).to.equal(0);
    expect((await knitd.cni('DEL', cniEnv(c), knitd.conf('1.1.0'))).code).to.equal(0);
    const fdBefore = knitd.fdCount();

    const idle = await Promise.all(Array.from({ length: 8 }, () => connect(knitd.socket)));
    const closed = idle.map(readToClose);
    const t0 = Date.now();
    // The ninth gets an immediate answer, without sending anything.
    const extra = await connect(knitd.socket);
    const answer = JSON.parse(await readToClose(extra)) as { ok: boolean; error: { code: number; msg: string } };
    expect(answer.ok).to.equal(false);
    expect(answer.error.code).to.equal(11);
    expect(answer.error.msg).to.include('cniMaxConnections 8');
    // So does the plugin: "try again later", as a CNI error on stdout.
    const viaPlugin = await knitd.cni('ADD', cniEnv(c), knitd.conf('1.1.0'));
    expect(viaPlugin.json?.code, viaPlugin.stdout).to.equal(11);
    expect(knitd.ipam().allocations).to.deep.equal([]);

    // The idle ones are cut off after ~2 s, without an answer.
    expect(await Promise.all(closed)).to.deep.equal(Array(8).fill(''));
    const waited = Date.now() - t0;
    expect(waited, 'closed by the idle timeout, not before').to.be.at.least(1500);
    expect(waited).to.be.below(10_000);
    const ok = await knitd.cni('ADD', cniEnv(c), knitd.conf('1.1.0'));
    expect(ok.code, ok.stdout).to.equal(0);
    expect((await knitd.cni('DEL', cniEnv(c), knitd.conf('1.1.0'))).code).to.equal(0);
    expect(knitd.fdCount(), 'knitd fds back to the baseline').to.be.at.most(fdBefore + 2);
    expect(knitd.proc.logTail(1 << 20)).to.include('CNI connection refused: too many connections');
  });
});
