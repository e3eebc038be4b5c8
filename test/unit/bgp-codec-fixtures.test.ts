/**
 * Messages captured from BIRD 2 (test/fixtures/bgp/capture.ts): each decodes
 * without error and re-encodes to the very same bytes; a few are checked
 * field by field against what the capture configured.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  Afi,
  AS_TRANS,
  BgpDecodeError,
  decodeMessage,
  encodeMessage,
  endOfRibFamily,
  findCapability,
  Safi,
  shutdownCommunication,
  type BgpMessage,
  type NotificationMessage,
  type OpenMessage,
  type UpdateMessage,
} from '../../agent/src/bgp/codec';

const DIR = resolve(__dirname, '../../../test/fixtures/bgp');

interface Fixture {
  name: string;
  bytes: Buffer;
  fourOctetAs: boolean;
}

function loadFixtures(): Fixture[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.hex'))
    .sort()
    .map((name) => {
      const text = readFileSync(join(DIR, name), 'utf8');
      const lines = text.split('\n');
      const flag = lines.find((l) => l.startsWith('# fourOctetAs:'));
      if (!flag) throw new Error(`${name}: no "# fourOctetAs:" line`);
      const hex = lines.filter((l) => !l.startsWith('#')).join('').trim();
      return { name, bytes: Buffer.from(hex, 'hex'), fourOctetAs: flag.endsWith('true') };
    });
}

const fixtures = loadFixtures();

function decoded(name: string): BgpMessage {
  const fx = fixtures.find((f) => f.name === name);
  if (!fx) throw new Error(`fixture ${name} missing`);
  const msg = decodeMessage(fx.bytes, { fourOctetAs: fx.fourOctetAs });
  if (msg instanceof BgpDecodeError) throw msg;
  return msg;
}

describe('bgp codec: BIRD 2 fixtures', () => {
  it('finds the 44 captured messages, per session and type', () => {
    expect(fixtures).to.have.length(44);
    const count = (prefix: string): number => fixtures.filter((f) => f.name.startsWith(prefix)).length;
    expect(count('ebgp4-')).to.equal(15);
    expect(count('ebgp2-')).to.equal(9);
    expect(count('ebgp6-')).to.equal(7);
    expect(count('ibgp4-')).to.equal(9);
    expect(count('badhold-')).to.equal(2);
    expect(count('badas-')).to.equal(2);
    expect(fixtures.filter((f) => f.name.includes('-update')).length).to.equal(26);
    for (const f of fixtures) expect(f.bytes.length, f.name).to.be.at.least(19);
  });

  describe('decode then re-encode byte for byte', () => {
    for (const fx of fixtures) {
      it(fx.name, () => {
        const msg = decodeMessage(fx.bytes, { fourOctetAs: fx.fourOctetAs });
        expect(msg, msg instanceof BgpDecodeError ? msg.message : '').not.to.be.instanceOf(BgpDecodeError);
        const type = fx.name.replace(/^[a-z0-9]+-\d+-/, '').replace('.hex', '');
        expect((msg as BgpMessage).type).to.equal(type);
        expect(encodeMessage(msg as BgpMessage, { fourOctetAs: fx.fourOctetAs }).toString('hex')).to.equal(fx.bytes.toString('hex'));
      });
    }
  });

  it('reads BIRD\'s OPEN with a 4-octet AS: AS_TRANS in My AS, the real AS in the capability', () => {
    const open = decoded('ebgp4-01-open.hex') as OpenMessage;
    expect(open.asn).to.equal(4200000001);
    expect(open.myAsField).to.equal(AS_TRANS);
    expect(open.holdTime).to.equal(240);
    expect(open.bgpId).to.equal('10.99.0.1');
    expect(open.capabilityParams).to.have.length(1);
    const mp = open.capabilityParams[0].filter((c) => c.kind === 'multiprotocol');
    expect(mp).to.deep.equal([
      { kind: 'multiprotocol', afi: Afi.IPV4, safi: Safi.UNICAST },
      { kind: 'multiprotocol', afi: Afi.IPV6, safi: Safi.UNICAST },
    ]);
    expect(findCapability(open.capabilityParams, 'route-refresh')).to.deep.equal({ kind: 'route-refresh' });
    expect(findCapability(open.capabilityParams, 'graceful-restart')).to.deep.equal({
      kind: 'graceful-restart',
      restarting: false,
      notification: false,
      restartTime: 120,
      families: [
        { afi: 1, safi: 1, forwardingPreserved: false },
        { afi: 2, safi: 1, forwardingPreserved: false },
      ],
    });
    // Enhanced route refresh (70) and long-lived graceful restart (71) are kept raw.
    expect(open.capabilityParams[0].filter((c) => c.kind === 'unknown').map((c) => (c.kind === 'unknown' ? c.code : 0))).to.deep.equal([70, 71]);
  });

  it('merges AS_PATH and AS4_PATH from a session without the 4-octet capability', () => {
    const fx = fixtures.find((f) => f.name === 'ebgp2-06-update.hex');
    // On the wire: AS_PATH of three AS_TRANS-substituted numbers plus AS4_PATH (type 17).
    expect(fx?.bytes.includes(Buffer.from('40020802035ba05ba0fc00', 'hex'))).to.equal(true);
    expect(fx?.bytes.includes(Buffer.from('c0110e0203fa56ea01fa56ea630000fc00', 'hex'))).to.equal(true);
    const u = decoded('ebgp2-06-update.hex') as UpdateMessage;
    expect(u.attributes.asPath).to.deep.equal([{ type: 'sequence', asns: [4200000001, 4200000099, 64512] }]);
    expect(u.attributes.origin).to.equal(2);
    expect(u.nlri).to.deep.equal([{ afi: 4, addr: '10.2.0.0', len: 16 }]);
  });

  it('reads IPv4 attributes set by BIRD filters: MED, communities, LOCAL_PREF', () => {
    const e = decoded('ebgp4-05-update.hex') as UpdateMessage;
    expect(e.attributes.med).to.equal(50);
    expect(e.attributes.communities).to.deep.equal([(65001 << 16) + 100, (65001 << 16) + 200].map((n) => n >>> 0));
    expect(e.attributes.nextHop).to.equal('10.99.0.1');
    expect(e.nlri).to.deep.equal([
      { afi: 4, addr: '10.1.0.0', len: 24 },
      { afi: 4, addr: '10.1.1.0', len: 24 },
    ]);
    const i = decoded('ibgp4-04-update.hex') as UpdateMessage;
    expect(i.attributes.localPref).to.equal(300);
    expect(i.attributes.asPath).to.deep.equal([]);
    expect(i.attributes.communities).to.deep.equal([0xffffff01]);
  });

  it('reads IPv6 routes with a global + link-local next hop in MP_REACH_NLRI', () => {
    const u = decoded('ebgp6-04-update.hex') as UpdateMessage;
    expect(u.attributes.mpReach?.afi).to.equal(Afi.IPV6);
    expect(u.attributes.mpReach?.nextHop.global).to.equal('2001:db8:99::1');
    expect(u.attributes.mpReach?.nextHop.linkLocal).to.match(/^fe80::/);
    expect(u.attributes.mpReach?.nlri).to.deep.equal([
      { afi: 6, addr: '2001:db8:2:3::', len: 64 },
      { afi: 6, addr: '2001:db8:4:5:6::', len: 80 },
    ]);
    const w = decoded('ebgp6-06-update.hex') as UpdateMessage;
    expect(w.attributes.mpUnreach?.withdrawn.map((p) => `${p.addr}/${p.len}`)).to.deep.equal(['2001:db8:1::/48', '2001:db8:2:3::/64', '2001:db8:4:5:6::/80']);
  });

  it('recognises End-of-RIB for IPv4 (empty UPDATE) and IPv6 (empty MP_UNREACH)', () => {
    expect(endOfRibFamily(decoded('ebgp4-07-update.hex') as UpdateMessage)).to.deep.equal({ afi: 1, safi: 1 });
    expect(endOfRibFamily(decoded('ebgp4-10-update.hex') as UpdateMessage)).to.deep.equal({ afi: 2, safi: 1 });
    expect(endOfRibFamily(decoded('ebgp4-11-update.hex') as UpdateMessage)).to.equal(undefined);
    expect(endOfRibFamily(decoded('ebgp4-12-update.hex') as UpdateMessage)).to.equal(undefined);
  });

  it('reads ROUTE-REFRESH for both families and BIRD\'s NOTIFICATIONs', () => {
    expect(decoded('ebgp4-13-route-refresh.hex')).to.deep.equal({ type: 'route-refresh', afi: 1, subtype: 0, safi: 1 });
    expect(decoded('ebgp4-14-route-refresh.hex')).to.deep.equal({ type: 'route-refresh', afi: 2, subtype: 0, safi: 1 });
    const shut = decoded('ebgp4-15-notification.hex') as NotificationMessage;
    expect([shut.code, shut.subcode]).to.deep.equal([6, 2]);
    expect(shutdownCommunication(shut)).to.equal('knit fixture capture done');
    const hold = decoded('badhold-02-notification.hex') as NotificationMessage;
    expect([hold.code, hold.subcode]).to.deep.equal([2, 6]);
    const as = decoded('badas-02-notification.hex') as NotificationMessage;
    expect([as.code, as.subcode, as.data.readUInt32BE(0)]).to.deep.equal([2, 2, 65006]);
  });
});
