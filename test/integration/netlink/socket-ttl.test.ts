/**
 * setSocketTtl through the native addon on real loopback TCP sockets (what
 * the BGP speaker uses for TTL 1 towards directly connected eBGP peers), and
 * the BGP connection wrapper applying it.
 */
import { expect } from 'chai';
import * as net from 'node:net';
import { setSocketTtl, socketTtl } from '../../../agent/src/netlink';
import { wrapSocket } from '../../../agent/src/bgp/conn';

describe('netlink: socket TTL (native addon)', () => {
  let server: net.Server;
  const sockets: net.Socket[] = [];

  async function connected(host: string): Promise<net.Socket> {
    const port = (server.address() as net.AddressInfo).port;
    const s = net.connect({ host, port });
    sockets.push(s);
    await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
    return s;
  }

  before(async () => {
    server = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => server.listen(0, '::', resolve));
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  for (const host of ['127.0.0.1', '::1']) {
    it(`sets and reads back the TTL of a connected socket (${host})`, async () => {
      const s = await connected(host);
      const before = socketTtl(s);
      expect(before).to.be.greaterThan(1);
      setSocketTtl(s, 1);
      expect(socketTtl(s)).to.equal(1);
      wrapSocket(s).setTtl!(7);
      expect(socketTtl(s)).to.equal(7);
      // The connection still carries data at TTL 1 on loopback.
      setSocketTtl(s, 1);
      const echoed = new Promise<string>((resolve) => s.once('data', (d) => resolve(String(d))));
      const peer = sockets.find((x) => x !== s && x.remotePort === s.localPort)!;
      peer.write('pong');
      expect(await echoed).to.equal('pong');
    });
  }

  it('refuses a TTL outside 1..255 and a socket without a descriptor, naming the problem', async () => {
    const s = await connected('127.0.0.1');
    expect(() => setSocketTtl(s, 0)).to.throw(RangeError, /1\.\.255/);
    expect(() => setSocketTtl(s, 256)).to.throw(RangeError, /1\.\.255/);
    const unconnected = new net.Socket();
    expect(() => setSocketTtl(unconnected, 1)).to.throw(/no file descriptor/);
  });
});
