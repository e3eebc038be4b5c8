/**
 * Hand-built messages covering every message type, capability and path
 * attribute the codec models; shared by the round-trip and fuzz tests.
 */
import { AttrFlag, CeaseSubcode, ErrorCode, type BgpMessage } from '../../agent/src/bgp/codec';

/** A named sample message. */
export interface Sample {
  name: string;
  msg: BgpMessage;
}

/** Every sample; each must survive encode → decode unchanged in both AS sizes. */
export function sampleMessages(): Sample[] {
  return [
    { name: 'KEEPALIVE', msg: { type: 'keepalive' } },
    {
      name: 'OPEN, 2-octet AS, every modelled capability',
      msg: {
        type: 'open',
        version: 4,
        asn: 65001,
        myAsField: 65001,
        holdTime: 90,
        bgpId: '10.0.0.1',
        capabilityParams: [
          [
            { kind: 'multiprotocol', afi: 1, safi: 1 },
            { kind: 'multiprotocol', afi: 2, safi: 1 },
            { kind: 'route-refresh' },
            { kind: 'four-octet-as', asn: 65001 },
            {
              kind: 'graceful-restart',
              restarting: true,
              notification: true,
              restartTime: 300,
              families: [
                { afi: 1, safi: 1, forwardingPreserved: true },
                { afi: 2, safi: 1, forwardingPreserved: false },
              ],
            },
            { kind: 'unknown', code: 73, value: Buffer.from('0568656c6c6f00', 'hex') },
          ],
        ],
      },
    },
    {
      name: 'OPEN, 4-octet AS, one capability per parameter, hold time 0',
      msg: {
        type: 'open',
        version: 4,
        asn: 4200000001,
        myAsField: 23456,
        holdTime: 0,
        bgpId: '192.0.2.255',
        capabilityParams: [[{ kind: 'multiprotocol', afi: 1, safi: 1 }], [{ kind: 'four-octet-as', asn: 4200000001 }], [{ kind: 'route-refresh' }]],
      },
    },
    {
      name: 'UPDATE, IPv4 with every base attribute',
      msg: {
        type: 'update',
        withdrawn: [{ afi: 4, addr: '10.9.0.0', len: 16 }],
        attributes: {
          origin: 1,
          asPath: [
            { type: 'sequence', asns: [65001, 65002] },
            { type: 'set', asns: [64512, 64513] },
          ],
          nextHop: '192.0.2.1',
          med: 4294967295,
          localPref: 100,
          atomicAggregate: true,
          aggregator: { asn: 65001, address: '192.0.2.9' },
          communities: [0xfde90064, 0xffffff01, 0xffffff02],
        },
        nlri: [
          { afi: 4, addr: '0.0.0.0', len: 0 },
          { afi: 4, addr: '10.1.0.0', len: 24 },
          { afi: 4, addr: '192.0.2.128', len: 25 },
          { afi: 4, addr: '198.51.100.7', len: 32 },
        ],
      },
    },
    {
      name: 'UPDATE, 4-octet AS numbers in path and aggregator (AS4_PATH/AS4_AGGREGATOR towards 2-octet peers)',
      msg: {
        type: 'update',
        withdrawn: [],
        attributes: {
          origin: 0,
          asPath: [{ type: 'sequence', asns: [4200000001, 65002, 4200000099] }],
          nextHop: '192.0.2.1',
          aggregator: { asn: 4200000001, address: '192.0.2.9' },
        },
        nlri: [{ afi: 4, addr: '10.2.0.0', len: 16 }],
      },
    },
    {
      name: 'UPDATE, IPv6 MP_REACH with a 16-octet next hop, and MP_UNREACH is separate',
      msg: {
        type: 'update',
        withdrawn: [],
        attributes: {
          origin: 0,
          asPath: [{ type: 'sequence', asns: [65001] }],
          mpReach: { afi: 2, safi: 1, nextHop: { global: '2001:db8::1' }, nlri: [{ afi: 6, addr: '2001:db8:1::', len: 48 }, { afi: 6, addr: '::', len: 0 }] },
        },
        nlri: [],
      },
    },
    {
      name: 'UPDATE, IPv6 MP_REACH with global + link-local next hop',
      msg: {
        type: 'update',
        withdrawn: [],
        attributes: {
          origin: 2,
          asPath: [],
          localPref: 200,
          mpReach: {
            afi: 2,
            safi: 1,
            nextHop: { global: '2001:db8::1', linkLocal: 'fe80::1:2ff:fe03:405' },
            nlri: [{ afi: 6, addr: '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', len: 128 }],
          },
        },
        nlri: [],
      },
    },
    {
      name: 'UPDATE, IPv4 NLRI in MP_REACH with an IPv6 next hop (RFC 8950)',
      msg: {
        type: 'update',
        withdrawn: [],
        attributes: {
          origin: 0,
          asPath: [{ type: 'sequence', asns: [65001] }],
          mpReach: { afi: 1, safi: 1, nextHop: { global: '2001:db8::7' }, nlri: [{ afi: 4, addr: '10.3.0.0', len: 24 }] },
        },
        nlri: [],
      },
    },
    {
      name: 'UPDATE, MP_UNREACH IPv6 withdrawals',
      msg: {
        type: 'update',
        withdrawn: [],
        attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [{ afi: 6, addr: '2001:db8:1::', len: 48 }] } },
        nlri: [],
      },
    },
    {
      name: 'UPDATE, unknown AFI/SAFI kept raw (L2VPN EVPN)',
      msg: {
        type: 'update',
        withdrawn: [],
        attributes: { mpUnreach: { afi: 25, safi: 70, withdrawn: [], raw: Buffer.from('001946', 'hex') } },
        nlri: [],
      },
    },
    {
      name: 'UPDATE, unknown optional transitive attribute passed through (Partial set)',
      msg: {
        type: 'update',
        withdrawn: [],
        attributes: {
          origin: 0,
          asPath: [{ type: 'sequence', asns: [65001] }],
          nextHop: '192.0.2.1',
          unknown: [{ flags: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE | AttrFlag.PARTIAL, type: 99, value: Buffer.alloc(300, 7) }],
        },
        nlri: [{ afi: 4, addr: '10.4.0.0', len: 22 }],
      },
    },
    { name: 'UPDATE, End-of-RIB IPv4', msg: { type: 'update', withdrawn: [], attributes: {}, nlri: [] } },
    { name: 'UPDATE, End-of-RIB IPv6', msg: { type: 'update', withdrawn: [], attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [] } }, nlri: [] } },
    { name: 'NOTIFICATION with data', msg: { type: 'notification', code: ErrorCode.OPEN_MESSAGE, subcode: 1, data: Buffer.from([0, 4]) } },
    { name: 'NOTIFICATION Cease without data', msg: { type: 'notification', code: ErrorCode.CEASE, subcode: CeaseSubcode.PEER_DECONFIGURED, data: Buffer.alloc(0) } },
    { name: 'ROUTE-REFRESH IPv6 unicast', msg: { type: 'route-refresh', afi: 2, safi: 1, subtype: 0 } },
    { name: 'ROUTE-REFRESH BoRR (RFC 7313)', msg: { type: 'route-refresh', afi: 1, safi: 1, subtype: 1 } },
  ];
}
