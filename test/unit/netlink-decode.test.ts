/**
 * The compact route/neighbour/FDB/link decoder (netlink/decode.ts): for messages
 * the `netlink` package formats, it returns exactly what the generic parser
 * path (routeFromMessage, neighFromMessage, fdbFromMessage, linkFromMessage) returns; for
 * truncated or malformed bytes it throws NetlinkDecodeError naming the
 * message and the offset, never a RangeError or a wrong object.
 */
import { expect } from 'chai';
import { AttrStream, rt, type ifla } from 'netlink';
import {
  decodeFdb, decodeLink, decodeNeighbour, decodeRoute, neighbourFamily, neighbourState, NetlinkDecodeError, readErrno, readHeader,
} from '../../agent/src/netlink/decode';
import { linkFromMessage } from '../../agent/src/netlink/links';
import { routeFromMessage } from '../../agent/src/netlink/routes';
import { neighFromMessage } from '../../agent/src/netlink/neighbours';
import { fdbFromMessage } from '../../agent/src/netlink/fdb';

const AF_INET = 2;
const AF_INET6 = 10;
const AF_BRIDGE = 7;
const ip4 = (s: string): Buffer => Buffer.from(s.split('.').map(Number));
const mac = (s: string): Buffer => Buffer.from(s.replace(/:/g, ''), 'hex');

function routeBody(data: rt.Route, attrs: rt.RouteAttrs): Buffer {
  const st = new AttrStream();
  rt.formatRouteMessage({ kind: 'route', data, attrs }, st);
  return Buffer.concat(st.bufs as Uint8Array[]);
}

function neighBody(data: rt.Neighbor, attrs: rt.NeighborAttrs): Buffer {
  const st = new AttrStream();
  rt.formatNeighborMessage({ kind: 'neighbor', data, attrs }, st);
  return Buffer.concat(st.bufs as Uint8Array[]);
}

/** The same body with its length changed (truncated, or one attribute's length field rewritten). */
function withU16(b: Buffer, offset: number, value: number): Buffer {
  const c = Buffer.from(b);
  c.writeUInt16LE(value, offset);
  return c;
}

const v6gw = Buffer.from('fd000000000000000000000000000001', 'hex');
const v6dst = Buffer.from('fd001000000000010000000000000000', 'hex');

const routeCases: Array<{ name: string; body: Buffer }> = [
  {
    name: 'IPv4 vxlan peer route: via .0, dev, onlink, proto 89, main table',
    body: routeBody({ family: AF_INET, dstLen: 24, table: 254, type: 1, protocol: 89 as rt.RouteProtocol, scope: 0, flags: { __unknown: 4 } },
      { table: 254, dst: ip4('10.100.3.0'), gateway: ip4('10.100.3.0'), oif: 7 }),
  },
  {
    name: 'IPv4 link route with prefsrc and metric (proto kernel, scope link)',
    body: routeBody({ family: AF_INET, dstLen: 16, table: 254, type: 1, protocol: 2, scope: 253 },
      { table: 254, dst: ip4('172.20.0.0'), prefsrc: ip4('172.20.0.11'), oif: 2, priority: 100 }),
  },
  {
    name: 'IPv6 route via a gateway, metric 1024',
    body: routeBody({ family: AF_INET6, dstLen: 64, table: 254, type: 1, protocol: 89 as rt.RouteProtocol, scope: 0 },
      { table: 254, dst: v6dst, gateway: v6gw, oif: 9, priority: 1024 }),
  },
  {
    name: 'default route (no RTA_DST), table above 255 in RTA_TABLE',
    body: routeBody({ family: AF_INET, dstLen: 0, table: 0, type: 1, protocol: 3, scope: 0 },
      { table: 1000, gateway: ip4('192.168.1.1'), oif: 3 }),
  },
  {
    name: 'IPv6 default route, scope 200 (no name)',
    body: routeBody({ family: AF_INET6, dstLen: 0, table: 254, type: 1, protocol: 3, scope: 200 }, { table: 254 }),
  },
  {
    name: 'local route: not unicast, left out',
    body: routeBody({ family: AF_INET, dstLen: 32, table: 255, type: 2, protocol: 2, scope: 254 }, { table: 255, dst: ip4('127.0.0.1'), oif: 1 }),
  },
  {
    name: 'an AF_MPLS route: left out',
    body: routeBody({ family: 28, dstLen: 20, table: 254, type: 1, protocol: 3, scope: 0 }, {}),
  },
];

const neighCases: Array<{ name: string; body: Buffer }> = [
  {
    name: 'IPv4 permanent neighbour (vxlan peer gateway)',
    body: neighBody({ family: AF_INET, ifindex: 7, state: { permanent: true } }, { dst: ip4('10.100.3.0'), lladdr: mac('0a:58:0a:64:03:00') }),
  },
  {
    name: 'IPv6 reachable neighbour',
    body: neighBody({ family: AF_INET6, ifindex: 2, state: { reachable: true } }, { dst: v6gw, lladdr: mac('52:54:00:12:34:56') }),
  },
  {
    name: 'IPv4 neighbour being deleted: FAILED, no lladdr',
    body: neighBody({ family: AF_INET, ifindex: 7, state: { failed: true } }, { dst: ip4('10.100.3.0') }),
  },
  {
    name: 'IPv6 NOARP multicast entry with an 8-byte lladdr',
    body: neighBody({ family: AF_INET6, ifindex: 4, state: { noarp: true } }, { dst: v6gw, lladdr: Buffer.alloc(8, 0x33) }),
  },
  {
    name: 'FDB entry with an IPv4 remote (vxlan)',
    body: neighBody({ family: AF_BRIDGE, ifindex: 7, flags: { self: true }, state: { permanent: true } }, { lladdr: mac('0a:58:0a:64:03:00'), dst: ip4('172.20.1.3') }),
  },
  {
    name: 'FDB entry with an IPv6 remote',
    body: neighBody({ family: AF_BRIDGE, ifindex: 7, flags: { self: true }, state: { permanent: true } }, { lladdr: mac('0a:58:0a:64:03:01'), dst: v6gw }),
  },
  {
    name: 'FDB entry of a bridge port, no remote, not permanent',
    body: neighBody({ family: AF_BRIDGE, ifindex: 12, flags: { master: true }, state: { reachable: true } }, { lladdr: mac('02:00:00:00:00:09') }),
  },
];

describe('netlink decode: the compact decoder agrees with the generic parser', () => {
  for (const tc of routeCases) {
    it(`route: ${tc.name}`, () => {
      const want = routeFromMessage(rt.parseRouteMessage(tc.body));
      expect(decodeRoute(tc.body, 0, tc.body.length)).to.deep.equal(want);
    });
  }
  for (const tc of neighCases) {
    it(`neighbour/FDB: ${tc.name}`, () => {
      const m = rt.parseNeighborMessage(tc.body);
      const end = tc.body.length;
      for (const allowNoMac of [false, true]) {
        expect(decodeNeighbour(tc.body, 0, end, allowNoMac), `allowNoMac ${allowNoMac}`).to.deep.equal(neighFromMessage(m, allowNoMac));
      }
      expect(decodeFdb(tc.body, 0, end)).to.deep.equal(fdbFromMessage(m));
      expect(neighbourFamily(tc.body, 0, end)).to.equal(m.data.family);
      expect(neighbourState(tc.body, 0, end)).to.equal(m.data.state ? rt.formatNeighborState(m.data.state) : 0);
    });
  }

  it('decodes a message in the middle of a larger buffer (a datagram) from its bounds only', () => {
    const body = routeCases[0]!.body;
    const datagram = Buffer.concat([Buffer.alloc(20, 0xff), body, Buffer.alloc(12, 0xee)]);
    expect(decodeRoute(datagram, 20, 20 + body.length)).to.deep.equal(decodeRoute(body, 0, body.length));
  });

  it('the fixture tables are not empty (a loop over nothing proves nothing)', () => {
    expect(routeCases.length).to.be.greaterThan(5);
    expect(neighCases.length).to.be.greaterThan(5);
  });
});

function linkBody(data: rt.Link, attrs: ifla.LinkAttrs): Buffer {
  const st = new AttrStream();
  rt.formatLinkMessage({ kind: 'link', data, attrs }, st);
  return Buffer.concat(st.bufs as Uint8Array[]);
}

/** IFLA_LINKINFO of a vxlan device: kind "vxlan", data { id 42, port 8472 (big-endian), learning 0, local 192.0.2.1, link 3 }. */
function vxlanInfo(): Buffer {
  const attr = (type: number, value: Buffer): Buffer => {
    const len = 4 + value.length;
    const b = Buffer.alloc((len + 3) & ~3);
    b.writeUInt16LE(len, 0);
    b.writeUInt16LE(type, 2);
    value.copy(b, 4);
    return b;
  };
  const u32le = (v: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
  const port = Buffer.alloc(2);
  port.writeUInt16BE(8472);
  const data = Buffer.concat([attr(1, u32le(42)), attr(15, port), attr(7, Buffer.from([0])), attr(4, ip4('192.0.2.1')), attr(3, u32le(3))]);
  return Buffer.concat([attr(1, Buffer.from('vxlan\0')), attr(2 | 0x8000, data)]);
}

/** The same body with ifi_change ~0, as the kernel announces a new device (the package formats no such value). */
function newDevice(b: Buffer): Buffer {
  const c = Buffer.from(b);
  c.writeUInt32LE(0xffffffff, 12);
  return c;
}

const linkCases: Array<{ name: string; body: Buffer; change?: number }> = [
  { name: 'loopback, up (no MAC however many bytes)', body: linkBody({ type: 772, index: 1, flags: { up: true, loopback: true } }, { ifname: 'lo', mtu: 65536, address: Buffer.alloc(6) }) },
  { name: 'a plain device, down', body: linkBody({ type: 1, index: 2, flags: {} }, { ifname: 'eth0', mtu: 1500, address: mac('02:00:00:00:00:02') }) },
  { name: 'a veth with its peer and master', body: linkBody({ type: 1, index: 9, flags: { up: true } }, { ifname: 'knv0', mtu: 1450, address: mac('0a:00:00:00:00:09'), master: 4, link: Buffer.from([12, 0, 0, 0]), linkinfo: Buffer.from([10, 0, 1, 0, 118, 101, 116, 104, 0, 0, 0, 0]) }) },
  { name: 'a vxlan device', body: linkBody({ type: 1, index: 5, flags: { up: true } }, { ifname: 'knit.1', mtu: 1450, address: mac('0e:00:00:00:00:05'), linkinfo: vxlanInfo() }) },
  { name: 'a new device (ifi_change ~0)', body: newDevice(linkBody({ type: 1, index: 7, flags: {} }, { ifname: 'knit0' })), change: 0xffffffff },
];

describe('netlink decode: links, against the package parser and linkFromMessage', () => {
  for (const tc of linkCases) {
    it(`link: ${tc.name}`, () => {
      const got = decodeLink(tc.body, 0, tc.body.length);
      expect(got.link).to.deep.equal(linkFromMessage(rt.parseLinkMessage(tc.body)));
      expect(got.change).to.equal(tc.change ?? 0);
    });
  }
  it('the veth and vxlan cases carry what they are about', () => {
    expect(decodeLink(linkCases[2]!.body, 0, linkCases[2]!.body.length).link).to.include({ kind: 'veth', peerIndex: 12, masterIndex: 4 });
    expect(decodeLink(linkCases[3]!.body, 0, linkCases[3]!.body.length).link.vxlan).to.deep.equal({ vni: 42, port: 8472, learning: false, local: '192.0.2.1', underlayIndex: 3 });
  });
  it('a body shorter than ifinfomsg, a short IFLA_MTU and a broken IFLA_LINKINFO are NetlinkDecodeErrors', () => {
    const short = (): unknown => decodeLink(Buffer.alloc(10), 0, 10);
    const mtu = Buffer.concat([Buffer.alloc(16), Buffer.from([6, 0, 4, 0, 1, 0, 0, 0])]);
    // IFLA_LINKINFO { kind "vxlan", data { IFLA_VXLAN_ID of 2 bytes } }
    const info = Buffer.concat([Buffer.alloc(16), Buffer.from([28, 0, 18, 0, 10, 0, 1, 0, 118, 120, 108, 97, 110, 0, 0, 0, 12, 0, 2, 0, 6, 0, 1, 0, 42, 0, 0, 0])]);
    for (const [run, match] of [[short, /ifinfomsg needs 16/], [() => decodeLink(mtu, 0, mtu.length), /IFLA_MTU of 2 bytes/], [() => decodeLink(info, 0, info.length), /link IFLA_LINKINFO at byte 20/]] as const) {
      expect(run).to.throw(NetlinkDecodeError, match);
    }
  });
  it('random bytes and every truncation never escape as anything but NetlinkDecodeError', () => {
    let seed = 29;
    const rnd = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
    const inputs: Buffer[] = [];
    for (const { body } of linkCases) for (let end = 0; end <= body.length; end++) inputs.push(body.subarray(0, end));
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.alloc(16 + (rnd() % 64));
      for (let j = 0; j < b.length; j++) b[j] = rnd() & 0xff;
      // well-formed attribute headers now and then, so the attribute switch is reached
      if (i % 2 === 0 && b.length >= 20) { b.writeUInt16LE(Math.min(b.length - 16, 4 + (rnd() % 24)), 16); b.writeUInt16LE(rnd() % 20, 18); }
      inputs.push(b);
    }
    let decoded = 0;
    for (const b of inputs) {
      try {
        decodeLink(b, 0, b.length);
        decoded++;
      } catch (err) {
        expect(err).to.be.instanceOf(NetlinkDecodeError);
      }
    }
    expect(decoded).to.be.greaterThan(0);
  });
});

describe('netlink decode: malformed and truncated input is reported, not read past', () => {
  const route = routeCases[0]!.body; // rtmsg (12) + RTA_TABLE (8) + RTA_DST (8) + RTA_GATEWAY (8) + RTA_OIF (8)
  const neigh = neighCases[0]!.body;
  const cases: Array<{ name: string; run: () => unknown; match: RegExp }> = [
    { name: 'route body shorter than rtmsg', run: () => decodeRoute(route, 0, 8), match: /route message at byte 0: body of 8 bytes, rtmsg needs 12/ },
    { name: 'route attribute running past the message', run: () => decodeRoute(route, 0, route.length - 2), match: /route message at byte \d+: attribute 4 of 8 bytes runs past the message/ },
    { name: 'route attribute length below its header', run: () => decodeRoute(withU16(route, 12, 2), 0, route.length), match: /attribute length 2 is shorter than its header/ },
    { name: 'gateway of 5 bytes', run: () => decodeRoute(withU16(withU16(route, 28, 9), 36, 4), 0, route.length), match: /route RTA_GATEWAY at byte \d+: address of 5 bytes/ },
    { name: 'RTA_OIF of 2 bytes', run: () => decodeRoute(Buffer.concat([route.subarray(0, 12), Buffer.from([6, 0, 4, 0, 7, 0, 0, 0])]), 0, 20), match: /RTA_OIF of 2 bytes, needs 4/ },
    { name: 'neighbour body shorter than ndmsg', run: () => decodeNeighbour(neigh, 0, 6), match: /neighbour message at byte 0: body of 6 bytes, ndmsg needs 12/ },
    { name: 'FDB body shorter than ndmsg', run: () => decodeFdb(neigh, 0, 11), match: /ndmsg needs 12/ },
    { name: 'neighbour NDA_DST of 3 bytes', run: () => decodeNeighbour(Buffer.concat([neigh.subarray(0, 12), Buffer.from([7, 0, 1, 0, 10, 0, 0, 0])]), 0, 20), match: /neighbour NDA_DST at byte 16: address of 3 bytes/ },
    { name: 'neighbour attribute running past the message', run: () => decodeNeighbour(neigh, 0, neigh.length - 1), match: /runs past the message/ },
    { name: 'header: fewer than 16 bytes left', run: () => readHeader(Buffer.alloc(10), 0), match: /netlink message at byte 0: 10 bytes left, a header needs 16/ },
    { name: 'header: nlmsg_len below 16', run: () => readHeader(Buffer.from([8, 0, 0, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 0), match: /nlmsg_len 8 is shorter than its header/ },
    { name: 'header: nlmsg_len past the datagram', run: () => readHeader(Buffer.from([64, 0, 0, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 0), match: /nlmsg_len 64 runs past the datagram \(16 bytes left\)/ },
    { name: 'NLMSG_ERROR body of 2 bytes', run: () => readErrno(Buffer.alloc(2), 0, 2), match: /NLMSG_ERROR at byte 0: body of 2 bytes, needs 4/ },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      let thrown: unknown;
      try {
        tc.run();
      } catch (err) {
        thrown = err;
      }
      expect(thrown).to.be.instanceOf(NetlinkDecodeError);
      expect((thrown as Error).message).to.match(tc.match);
      expect((thrown as NetlinkDecodeError).code).to.equal('EBADMSG');
    });
  }

  it('every truncation of valid messages either decodes or throws NetlinkDecodeError (no RangeError)', () => {
    let decoded = 0;
    let rejected = 0;
    for (const { body } of [...routeCases, ...neighCases]) {
      for (let end = 0; end <= body.length; end++) {
        for (const f of [() => decodeRoute(body, 0, end), () => decodeNeighbour(body, 0, end, true), () => decodeFdb(body, 0, end)]) {
          try {
            f();
            decoded++;
          } catch (err) {
            expect(err, `end ${end}`).to.be.instanceOf(NetlinkDecodeError);
            rejected++;
          }
        }
      }
    }
    expect(decoded).to.be.greaterThan(0);
    expect(rejected).to.be.greaterThan(0);
  });

  it('random bytes never escape as anything but NetlinkDecodeError', () => {
    let seed = 17;
    const rnd = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.alloc(rnd() % 64);
      for (let j = 0; j < b.length; j++) b[j] = rnd() & 0xff;
      if (b.length >= 8) b[7] = 1; // rtm_type unicast, so the attributes get read
      if (b.length >= 1) b[0] = i % 2 === 0 ? AF_INET : AF_BRIDGE;
      for (const f of [() => decodeRoute(b, 0, b.length), () => decodeNeighbour(b, 0, b.length, true), () => decodeFdb(b, 0, b.length), () => readHeader(b, 0)]) {
        try {
          f();
        } catch (err) {
          expect(err).to.be.instanceOf(NetlinkDecodeError);
        }
      }
    }
  });
});
