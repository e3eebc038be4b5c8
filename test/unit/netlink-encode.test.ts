/**
 * The in-place request encoder (netlink/encode.ts and the route, neighbour
 * and FDB encoders built on it): for every shape of request knit sends it
 * writes exactly the bytes the `netlink` package's formatter wrote before
 * (the messages the kernel accepted in every lab test), headers, padding
 * between messages and all; a bad field fails with the same
 * NetlinkInputError naming that field, and leaves nothing written.
 */
import { expect } from 'chai';
import { AttrStream, formatMessage, rt } from 'netlink';
import { addrScratch, MessageWriter, parseAddr, parseDst } from '../../agent/src/netlink/encode';
import { encodeRoute } from '../../agent/src/netlink/routes';
import { encodeNeighDel, encodeNeighSet } from '../../agent/src/netlink/neighbours';
import { encodeFdb } from '../../agent/src/netlink/fdb';
import { NetlinkInputError } from '../../agent/src/netlink/errors';
import { parseCidr, parseIp } from '../../agent/src/netlink/validate';
import type { FdbEntry, Neighbour, Route } from '../../agent/src/netlink';

const AF_INET = 2;
const AF_INET6 = 10;
const AF_BRIDGE = 7;
const ip = (s: string): Buffer => parseIp('x', s).bytes;
const mac = (s: string): Buffer => Buffer.from(s.replace(/:/g, ''), 'hex');

/** What the package sends for one message: header + body, as formatMessage returns it. */
function packageMessage(type: number, flags: number, seq: number, body: (st: AttrStream) => void): Buffer {
  const st = new AttrStream();
  body(st);
  return Buffer.concat(formatMessage({ type, flags, seq, port: 4242, data: st.bufs as Uint8Array[] }));
}

function encoded(type: number, flags: number, seq: number, body: (w: MessageWriter) => void): Buffer {
  const w = new MessageWriter(16); // small: growing is exercised too
  const start = w.begin(type, flags, seq, 4242);
  body(w);
  w.end(start);
  return w.take();
}

/** `b` padded to NLMSG_ALIGN, as the batcher lays messages out in a datagram. */
const aligned = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((4 - (b.length & 3)) & 3)]);

interface Case { name: string; ours: (w: MessageWriter) => void; theirs: (st: AttrStream) => void }

const routeCases: Array<{ name: string; r: Route; op: 'add' | 'replace' | 'del'; data: rt.Route; attrs: rt.RouteAttrs }> = [
  {
    name: 'vxlan peer route: via the peer subnet, dev, onlink, proto 89 (replace)',
    r: { dst: '10.100.3.0/24', gateway: '10.100.3.0', index: 7, onlink: true, protocol: 89 },
    op: 'replace',
    data: { family: AF_INET, dstLen: 24, table: 254, type: 1, protocol: 89 as rt.RouteProtocol, scope: 0, flags: { __unknown: 4 } },
    attrs: { table: 254, dst: ip('10.100.3.0'), gateway: ip('10.100.3.0'), oif: 7 },
  },
  {
    name: 'host-gw route, delete (protocol 0 and scope nowhere unless given)',
    r: { dst: '10.0.0.0/8', gateway: '172.20.0.1' },
    op: 'del',
    data: { family: AF_INET, dstLen: 8, table: 254, type: 0, protocol: 0 as rt.RouteProtocol, scope: 255 },
    attrs: { table: 254, dst: ip('10.0.0.0'), gateway: ip('172.20.0.1') },
  },
  {
    name: 'link route with src, metric, table above 255 and scope host (add)',
    r: { dst: '192.168.7.0/24', index: 3, src: '192.168.7.1', metric: 100, table: 1000, scope: 'host' },
    op: 'add',
    data: { family: AF_INET, dstLen: 24, table: 0, type: 1, protocol: 3, scope: 254 },
    attrs: { table: 1000, dst: ip('192.168.7.0'), oif: 3, prefsrc: ip('192.168.7.1'), priority: 100 },
  },
  {
    name: 'default route (no RTA_DST)',
    r: { dst: '0.0.0.0/0', gateway: '10.0.0.1', protocol: 89 },
    op: 'replace',
    data: { family: AF_INET, dstLen: 0, table: 254, type: 1, protocol: 89 as rt.RouteProtocol, scope: 0 },
    attrs: { table: 254, gateway: ip('10.0.0.1') },
  },
  {
    name: 'IPv6 route via a gateway with a metric',
    r: { dst: 'fd00:10:0:3::/64', gateway: 'fd77::1:3', index: 9, protocol: 89, metric: 1024 },
    op: 'replace',
    data: { family: AF_INET6, dstLen: 64, table: 254, type: 1, protocol: 89 as rt.RouteProtocol, scope: 0 },
    attrs: { table: 254, dst: parseCidr('x', 'fd00:10:0:3::/64').bytes, gateway: ip('fd77::1:3'), oif: 9, priority: 1024 },
  },
];

const neigh: Neighbour = { index: 7, ip: '10.100.3.0', mac: '02:AB:00:00:03:01', permanent: true };
const neigh6: Neighbour = { index: 7, ip: 'fd00:10:0:3::', mac: '02:ab:00:00:03:01', permanent: true };
const fdb: FdbEntry = { index: 7, mac: '02:ab:00:00:03:01', dst: '172.20.1.3', permanent: true };

const cases: Case[] = [
  ...routeCases.map((c): Case => ({
    name: `route: ${c.name}`,
    ours: (w) => encodeRoute(w, c.r, c.op),
    theirs: (st) => rt.formatRouteMessage({ kind: 'route', data: c.data, attrs: c.attrs }, st),
  })),
  {
    name: 'neighbour replace, permanent (body ends in an unaligned 6-byte MAC)',
    ours: (w) => encodeNeighSet(w, neigh),
    theirs: (st) => rt.formatNeighborMessage({ kind: 'neighbor', data: { family: AF_INET, ifindex: 7, state: { permanent: true } }, attrs: { dst: ip(neigh.ip), lladdr: mac(neigh.mac) } }, st),
  },
  {
    name: 'IPv6 neighbour replace',
    ours: (w) => encodeNeighSet(w, neigh6),
    theirs: (st) => rt.formatNeighborMessage({ kind: 'neighbor', data: { family: AF_INET6, ifindex: 7, state: { permanent: true } }, attrs: { dst: ip(neigh6.ip), lladdr: mac(neigh6.mac) } }, st),
  },
  {
    name: 'neighbour delete',
    ours: (w) => encodeNeighDel(w, neigh),
    theirs: (st) => rt.formatNeighborMessage({ kind: 'neighbor', data: { family: AF_INET, ifindex: 7 }, attrs: { dst: ip(neigh.ip) } }, st),
  },
  {
    name: 'FDB replace with a VTEP, self permanent',
    ours: (w) => encodeFdb(w, fdb, true),
    theirs: (st) => rt.formatNeighborMessage({ kind: 'neighbor', data: { family: AF_BRIDGE, ifindex: 7, flags: { self: true }, state: { permanent: true } }, attrs: { lladdr: mac(fdb.mac), dst: ip(fdb.dst!) } }, st),
  },
  {
    name: 'FDB delete without a VTEP (body ends in the MAC)',
    ours: (w) => encodeFdb(w, { index: 7, mac: fdb.mac }, false),
    theirs: (st) => rt.formatNeighborMessage({ kind: 'neighbor', data: { family: AF_BRIDGE, ifindex: 7, flags: { self: true }, state: {} }, attrs: { lladdr: mac(fdb.mac) } }, st),
  },
];

describe('netlink encoder: the same bytes as the package formatter', () => {
  for (const c of cases) {
    it(c.name, () => {
      expect(encoded(24, 0x501, 0x80000007, c.ours).toString('hex')).to.equal(aligned(packageMessage(24, 0x501, 0x80000007, c.theirs)).toString('hex'));
    });
  }

  it('several messages in one writer: each starts aligned, nlmsg_len unpadded, ACK settable on the last', () => {
    const w = new MessageWriter(64);
    const starts = cases.map((c) => { const s = w.begin(28, 1, 5, 4242); c.ours(w); w.end(s); return s; });
    w.orFlags(starts[starts.length - 1]!, 4);
    const got = w.take();
    const want = Buffer.concat(cases.map((c, i) => aligned(packageMessage(28, i === cases.length - 1 ? 5 : 1, 5, c.theirs))));
    expect(got.toString('hex')).to.equal(want.toString('hex'));
    expect(w.len).to.equal(0);
  });
});

describe('netlink encoder: bad fields', () => {
  const bad: Array<{ name: string; field: string; encode: (w: MessageWriter) => void }> = [
    { name: 'route dst with host bits', field: 'dst', encode: (w) => encodeRoute(w, { dst: '10.0.0.1/24' }, 'add') },
    { name: 'route dst prefix too long', field: 'dst', encode: (w) => encodeRoute(w, { dst: '10.0.0.0/33' }, 'add') },
    { name: 'route dst without a prefix', field: 'dst', encode: (w) => encodeRoute(w, { dst: '10.0.0.0' }, 'add') },
    { name: 'route dst with a leading zero', field: 'dst', encode: (w) => encodeRoute(w, { dst: '10.00.0.0/16' }, 'add') },
    { name: 'route gateway octet above 255', field: 'gateway', encode: (w) => encodeRoute(w, { dst: '10.0.0.0/8', gateway: '10.0.0.256' }, 'add') },
    { name: 'route gateway of the other family', field: 'gateway', encode: (w) => encodeRoute(w, { dst: '10.0.0.0/8', gateway: 'fd00::1' }, 'add') },
    { name: 'route onlink without a device', field: 'index', encode: (w) => encodeRoute(w, { dst: '10.0.0.0/8', gateway: '10.0.0.1', onlink: true }, 'add') },
    { name: 'neighbour with a short MAC', field: 'mac', encode: (w) => encodeNeighSet(w, { ...neigh, mac: '02:ab:00:00:03' }) },
    { name: 'neighbour IP with five octets', field: 'ip', encode: (w) => encodeNeighSet(w, { ...neigh, ip: '10.1.2.3.4' }) },
    { name: 'FDB MAC with a bad digit', field: 'mac', encode: (w) => encodeFdb(w, { ...fdb, mac: '02:ab:00:00:03:0g' }, true) },
    { name: 'FDB dst empty', field: 'dst', encode: (w) => encodeFdb(w, { ...fdb, dst: '' }, true) },
  ];
  for (const b of bad) {
    it(`${b.name}: NetlinkInputError for '${b.field}'`, () => {
      const w = new MessageWriter();
      expect(() => b.encode(w)).to.throw(NetlinkInputError).with.property('field', b.field);
    });
  }
});

describe('netlink encoder: the in-place address parsers agree with validate.ts', () => {
  it('parseDst and parseAddr: the same bytes, prefix and family, or the same field in the error, on 20 000 random texts', () => {
    let seed = 18;
    const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
    const pieces = ['0', '1', '10', '255', '256', '01', '.', '/', '24', '8', '32', '33', '::', 'fd00', ':'];
    let good = 0;
    for (let i = 0; i < 20_000; i++) {
      const text = rnd(2) === 0
        ? `${rnd(260)}.${rnd(260)}.${rnd(4) * 64}.${rnd(3) * 128}/${rnd(34)}`
        : Array.from({ length: 1 + rnd(8) }, () => pieces[rnd(pieces.length)]).join('');
      const outcome = (f: () => { family: number; prefixLen?: number; bytes: Uint8Array }): string => {
        try {
          const r = f();
          return `${r.family} ${r.prefixLen ?? ''} ${Buffer.from(r.bytes.subarray(0, r.family === 4 ? 4 : 16)).toString('hex')}`;
        } catch (err) {
          return `error ${(err as NetlinkInputError).field}`;
        }
      };
      const want = outcome(() => parseCidr('dst', text, { network: true }));
      expect(outcome(() => parseDst(addrScratch(), 'dst', text)), text).to.equal(want);
      if (!want.startsWith('error')) good++;
      const ip = text.split('/')[0]!;
      expect(outcome(() => { const a = parseAddr(addrScratch(), 'gateway', ip); return { family: a.family, bytes: a.bytes }; }), ip)
        .to.equal(outcome(() => { const p = parseIp('gateway', ip); return { family: p.family, bytes: p.bytes }; }));
    }
    expect(good).to.be.greaterThan(500); // real prefixes, not only junk
  });
});
