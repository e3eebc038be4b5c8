/**
 * Nexthop objects on the wire (netlink/nexthops.ts, decode.ts) and a route's
 * RTA_NH_ID (routes.ts): the request bytes knit writes, byte by byte against
 * struct nhmsg and the attribute layout of linux/nexthop.h; what the decoder
 * reads back from the same layout; and the inputs each refuses. The lab test
 * test/integration/netlink/nexthops.test.ts checks the same objects against
 * what `ip nexthop` makes and shows.
 */
import { expect } from 'chai';
import { MessageWriter } from '../../agent/src/netlink/encode';
import { encodeNexthopDel, encodeNexthopSet } from '../../agent/src/netlink/nexthops';
import { encodeRoute } from '../../agent/src/netlink/routes';
import { decodeNexthop, decodeRoute } from '../../agent/src/netlink/decode';
import { NetlinkInputError } from '../../agent/src/netlink/errors';
import { eventFromMessage } from '../../agent/src/netlink/events';
import type { Nexthop, Route } from '../../agent/src/netlink';

const body = (f: (w: MessageWriter) => void): Buffer => {
  const w = new MessageWriter(16);
  f(w);
  return w.take();
};
const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const attr = (type: number, value: number[]): number[] => [4 + value.length, 0, type, 0, ...value, ...Array((4 - (value.length & 3)) & 3).fill(0)];

describe('netlink nexthop: encode', () => {
  it('ip nexthop replace id N via GW dev X onlink proto 89: nhmsg, NHA_ID, NHA_OIF, NHA_GATEWAY', () => {
    const b = body((w) => encodeNexthopSet(w, { id: 0x0af40300, gateway: '10.244.3.0', index: 7, onlink: true, protocol: 89 }));
    expect([...b]).to.deep.equal([
      2, 0, 89, 0, ...u32(4), // family AF_INET, scope, protocol, resvd, flags RTNH_F_ONLINK
      ...attr(1, u32(0x0af40300)),
      ...attr(5, u32(7)),
      ...attr(6, [10, 244, 3, 0]),
    ]);
  });

  it('an IPv6 gateway makes an AF_INET6 nexthop; protocol defaults to unspec (0, as `ip nexthop`), no onlink flag', () => {
    const b = body((w) => encodeNexthopSet(w, { id: 9, gateway: 'fd00::1', index: 2 }));
    expect([...b.subarray(0, 8)]).to.deep.equal([10, 0, 0, 0, 0, 0, 0, 0]);
    expect(b.length).to.equal(8 + 8 + 8 + 20);
  });

  it('ip nexthop del id N: an all-zero nhmsg (the kernel refuses anything else) and NHA_ID', () => {
    const b = body((w) => encodeNexthopDel(w, { id: 0xfffffffe }));
    expect([...b]).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0, ...attr(1, u32(0xfffffffe))]);
  });

  const bad: Array<{ name: string; nh: unknown; field: string }> = [
    { name: 'id 0 (the kernel\'s "none")', nh: { id: 0, gateway: '10.0.0.1', index: 2 }, field: 'id' },
    { name: 'id above u32', nh: { id: 2 ** 32, gateway: '10.0.0.1', index: 2 }, field: 'id' },
    { name: 'no device', nh: { id: 1, gateway: '10.0.0.1' }, field: 'index' },
    { name: 'a gateway that is no address', nh: { id: 1, gateway: '10.0.0.300', index: 2 }, field: 'gateway' },
    { name: 'protocol above 255', nh: { id: 1, gateway: '10.0.0.1', index: 2, protocol: 256 }, field: 'protocol' },
    { name: 'not an object', nh: null, field: 'nexthop' },
  ];
  for (const tc of bad) {
    it(`refuses ${tc.name}, naming the field`, () => {
      expect(() => body((w) => encodeNexthopSet(w, tc.nh as Nexthop))).to.throw(NetlinkInputError).with.property('field', tc.field);
    });
  }

  it('a route through a nexthop: RTA_NH_ID after the others, scope universe, no gateway, device or onlink', () => {
    const b = body((w) => encodeRoute(w, { dst: '10.244.3.0/24', nhid: 0x0af40300, protocol: 89 }, 'replace'));
    // rtmsg: family, dst_len, src_len, tos, table, protocol, scope (universe: a nexthop with a gateway refuses link), type, flags
    expect([...b.subarray(0, 12)]).to.deep.equal([2, 24, 0, 0, 254, 89, 0, 1, 0, 0, 0, 0]);
    expect([...b.subarray(12)]).to.deep.equal([...attr(15, u32(254)), ...attr(1, [10, 244, 3, 0]), ...attr(30, u32(0x0af40300))]);
  });

  it('a route naming both a nexthop id and a gateway, device or onlink is refused (the kernel would)', () => {
    for (const r of [{ gateway: '10.0.0.1' }, { index: 3 }, { onlink: true, index: 3 }]) {
      expect(() => body((w) => encodeRoute(w, { dst: '10.244.3.0/24', nhid: 5, ...r }, 'replace'))).to.throw(NetlinkInputError).with.property('field', 'nhid');
    }
    expect(() => body((w) => encodeRoute(w, { dst: '10.244.3.0/24', nhid: 0 }, 'replace'))).to.throw(NetlinkInputError).with.property('field', 'nhid');
  });
});

describe('netlink nexthop: decode', () => {
  const msg = (protocol: number, flags: number, attrs: number[]): Buffer => Buffer.from([2, 253, protocol, 0, ...u32(flags), ...attrs]);

  it('reads id, device, gateway, onlink and protocol; what it encodes reads back the same', () => {
    const want: Nexthop = { id: 0x0af40300, gateway: '10.244.3.0', index: 7, onlink: true, protocol: 89 };
    const b = body((w) => encodeNexthopSet(w, want));
    expect(decodeNexthop(b, 0, b.length)).to.deep.equal(want);
    const v6: Nexthop = { id: 77, gateway: 'fd00::1', index: 2, protocol: 3 };
    const b6 = body((w) => encodeNexthopSet(w, v6));
    expect(decodeNexthop(b6, 0, b6.length)).to.deep.equal(v6);
  });

  it('a group or blackhole nexthop (no gateway, no device) keeps its id: gateway "", index 0', () => {
    const b = msg(4, 0, [...attr(1, u32(12)), ...attr(8, [])]); // NHA_BLACKHOLE
    expect(decodeNexthop(b, 0, b.length)).to.deep.equal({ id: 12, gateway: '', index: 0, protocol: 4 });
  });

  it('no NHA_ID: nothing; a short nhmsg or an attribute past the end: NetlinkDecodeError', () => {
    const none = msg(4, 0, attr(5, u32(2)));
    expect(decodeNexthop(none, 0, none.length)).to.equal(undefined);
    expect(() => decodeNexthop(Buffer.alloc(6), 0, 6)).to.throw().with.property('name', 'NetlinkDecodeError');
    const over = msg(4, 0, [12, 0, 1, 0, 1, 0, 0, 0]);
    expect(() => decodeNexthop(over, 0, over.length)).to.throw().with.property('name', 'NetlinkDecodeError');
  });

  it('a route through a nexthop reads as its id alone, even with the gateway and device compat mode adds', () => {
    const b = Buffer.from([
      2, 24, 0, 0, 254, 89, 0, 1, ...u32(4),
      ...attr(15, u32(254)), ...attr(1, [10, 244, 3, 0]), ...attr(30, u32(0x0af40300)), ...attr(5, [10, 244, 3, 0]), ...attr(4, u32(7)),
    ]);
    const want: Route = { dst: '10.244.3.0/24', table: 254, protocol: 89, scope: 'universe', metric: 0, nhid: 0x0af40300 };
    expect(decodeRoute(b, 0, b.length)).to.deep.equal(want);
  });

  it('RTM_NEWNEXTHOP / RTM_DELNEXTHOP become nexthop-added / nexthop-deleted events', () => {
    const b = body((w) => encodeNexthopSet(w, { id: 5, gateway: '10.0.0.1', index: 2, protocol: 89 }));
    expect(eventFromMessage(104, b, 0, b.length)).to.deep.equal({ type: 'nexthop-added', nexthop: { id: 5, gateway: '10.0.0.1', index: 2, protocol: 89 } });
    expect(eventFromMessage(105, b, 0, b.length)).to.have.property('type', 'nexthop-deleted');
  });
});
