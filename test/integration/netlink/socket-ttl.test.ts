/**
 * setSocketTtl through the native addon on real loopback TCP sockets (what
 * the BGP speaker uses for TTL 1 towards directly connected eBGP peers), and
 * the BGP connection wrapper applying it.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import {
  acceptedSynTtl, keepListenerSyns, preparedTcpSocket, rawSocketOptions, setSocketMinTtl, setSocketTtl, setTcpMd5, socketMinTtl, socketTtl,
} from '../../../agent/src/netlink';
import { wrapSocket } from '../../../agent/src/bgp/conn';
import { waitFor } from '../../support/wait';

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

  for (const host of ['127.0.0.1', '::1']) {
    it(`GTSM: sets and reads back the minimum TTL (${host}); loopback traffic at TTL 64 is then dropped, at 255 it flows`, async () => {
      const s = await connected(host);
      expect(socketMinTtl(s)).to.equal(0);
      setSocketMinTtl(s, 255);
      expect(socketMinTtl(s)).to.equal(255);
      const peer = sockets.find((x) => x !== s && x.remotePort === s.localPort)!;
      const got: string[] = [];
      s.on('data', (d) => got.push(String(d)));
      setSocketTtl(peer, 64);
      peer.write('dropped');
      await new Promise((r) => setTimeout(r, 300));
      expect(got).to.deep.equal([]);
      setSocketTtl(peer, 255);
      // TCP retransmits the dropped segment at the new TTL.
      await waitFor('the segment retransmitted at TTL 255', () => got.join('') === 'dropped', 5000);
    });
  }

  it('TCP-MD5: a keyed listener and a socket keyed before its SYN connect; a wrong key never does', async () => {
    const keyed = net.createServer((c) => { sockets.push(c); c.end('signed'); });
    await new Promise<void>((resolve) => keyed.listen(0, '127.0.0.1', resolve));
    try {
      setTcpMd5(keyed, '127.0.0.1', 'k-one');
      const port = (keyed.address() as net.AddressInfo).port;
      const attempt = (key: string): Promise<string> => new Promise((resolve) => {
        const c = preparedTcpSocket(4, (fd) => rawSocketOptions.md5(fd, '127.0.0.1', key));
        sockets.push(c);
        const t = setTimeout(() => { c.destroy(); resolve('no connection'); }, 1500);
        c.on('data', (d) => { clearTimeout(t); resolve(String(d)); });
        c.on('error', () => undefined);
        c.connect(port, '127.0.0.1');
      });
      expect(await attempt('k-one')).to.equal('signed');
      expect(await attempt('k-two')).to.equal('no connection');
    } finally {
      await new Promise<void>((resolve) => keyed.close(() => resolve()));
    }
  });

  it('GTSM on accept: a listener that keeps SYNs tells each accepted connection the TTL its SYN arrived with (the default TTL, or 255 when the dialer sets it before connecting)', async () => {
    const ttls: number[] = [];
    const server = net.createServer((sock) => {
      ttls.push(acceptedSynTtl(sock));
      sock.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    keepListenerSyns(server);
    const port = (server.address() as net.AddressInfo).port;
    const dial = (c: net.Socket): Promise<void> => new Promise((resolve) => {
      c.on('close', () => resolve());
      c.on('error', () => undefined);
      c.resume();
      c.connect(port, '127.0.0.1');
    });
    try {
      await dial(new net.Socket());
      await dial(preparedTcpSocket(4, (fd) => rawSocketOptions.ttl(fd, 255)));
      await waitFor('two accepted connections', () => ttls.length === 2, 5000);
      const defaultTtl = Number(readFileSync('/proc/sys/net/ipv4/ip_default_ttl', 'utf8'));
      expect(ttls).to.deep.equal([defaultTtl, 255]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
