import { expect } from 'chai';
import { formatResult, parseResult } from '../../agent/src/cni/result';
import type { InternalResult } from '../../agent/src/cni/result';
import { CniError } from '../../agent/src/cni/errors';
import type { CniVersion } from '../../agent/src/cni/version';
import { SAMPLE_RESULT } from '../support/cni-fakes';

// Expected output written from each version's SPEC.md result section, as
// exact JSON text so key order (cniVersion first) is checked too.
const IPS_0X =
  '"ips":[{"version":"4","address":"10.244.1.5/24","gateway":"10.244.1.1","interface":2},' +
  '{"version":"6","address":"fd00:10:244:1::5/64","gateway":"fd00:10:244:1::1","interface":2}]';
const IPS_1X =
  '"ips":[{"address":"10.244.1.5/24","gateway":"10.244.1.1","interface":2},' +
  '{"address":"fd00:10:244:1::5/64","gateway":"fd00:10:244:1::1","interface":2}]';
const IFACES_OLD =
  '"interfaces":[{"name":"knit0","mac":"0a:58:0a:f4:01:01"},{"name":"vethc0ffee01","mac":"ee:ee:ee:ee:ee:01"},' +
  '{"name":"eth0","mac":"0a:58:0a:f4:01:05","sandbox":"/run/netns/c1"}]';
const IFACES_11 =
  '"interfaces":[{"name":"knit0","mac":"0a:58:0a:f4:01:01","mtu":1450},{"name":"vethc0ffee01","mac":"ee:ee:ee:ee:ee:01","mtu":1450},' +
  '{"name":"eth0","mac":"0a:58:0a:f4:01:05","mtu":1450,"sandbox":"/run/netns/c1"}]';
const ROUTES_OLD = '"routes":[{"dst":"0.0.0.0/0","gw":"10.244.1.1"},{"dst":"::/0","gw":"fd00:10:244:1::1"}]';
const ROUTES_11 = '"routes":[{"dst":"0.0.0.0/0","gw":"10.244.1.1","mtu":1450,"priority":100},{"dst":"::/0","gw":"fd00:10:244:1::1"}]';
const DNS = '"dns":{"nameservers":["10.96.0.10"],"search":["svc.cluster.local"]}';

const expected: Record<CniVersion, string> = {
  '0.3.0': `{"cniVersion":"0.3.0",${IFACES_OLD},${IPS_0X},${ROUTES_OLD},${DNS}}`,
  '0.3.1': `{"cniVersion":"0.3.1",${IFACES_OLD},${IPS_0X},${ROUTES_OLD},${DNS}}`,
  '0.4.0': `{"cniVersion":"0.4.0",${IFACES_OLD},${IPS_0X},${ROUTES_OLD},${DNS}}`,
  '1.0.0': `{"cniVersion":"1.0.0",${IFACES_OLD},${IPS_1X},${ROUTES_OLD},${DNS}}`,
  '1.1.0': `{"cniVersion":"1.1.0",${IFACES_11},${IPS_1X},${ROUTES_11},${DNS}}`,
};

/** What survives a trip through a version that cannot say the 1.1 extras. */
function withoutV11Extras(r: InternalResult): InternalResult {
  return {
    interfaces: r.interfaces.map(({ name, mac, sandbox }) => ({ name, ...(mac ? { mac } : {}), ...(sandbox ? { sandbox } : {}) })),
    ips: r.ips,
    routes: r.routes.map(({ dst, gw }) => ({ dst, ...(gw ? { gw } : {}) })),
    dns: r.dns,
  };
}

describe('cni result: formatResult per spec version', () => {
  for (const [version, json] of Object.entries(expected) as [CniVersion, string][]) {
    it(`writes exactly the ${version} layout`, () => {
      expect(JSON.stringify(formatResult(SAMPLE_RESULT, version))).to.equal(json);
    });
    it(`reads its own ${version} output back (round trip)`, () => {
      const back = parseResult(JSON.parse(json));
      expect(back).to.deep.equal(version === '1.1.0' ? SAMPLE_RESULT : withoutV11Extras(SAMPLE_RESULT));
      expect(JSON.stringify(formatResult(back, version))).to.equal(json);
    });
  }

  it('omits empty lists, empty dns and absent optional fields', () => {
    const r: InternalResult = { interfaces: [{ name: 'eth0' }], ips: [{ address: '10.0.0.2/32' }], routes: [], dns: {} };
    expect(JSON.stringify(formatResult(r, '0.4.0'))).to.equal('{"cniVersion":"0.4.0","interfaces":[{"name":"eth0"}],"ips":[{"version":"4","address":"10.0.0.2/32"}]}');
    expect(JSON.stringify(formatResult(r, '1.1.0'))).to.equal('{"cniVersion":"1.1.0","interfaces":[{"name":"eth0"}],"ips":[{"address":"10.0.0.2/32"}]}');
  });

  it('writes 1.1 interface extras (socketPath, pciID) and route scope/table/advmss only for 1.1.0', () => {
    const r: InternalResult = {
      interfaces: [{ name: 'net1', socketPath: '/run/vhost/net1.sock', pciID: '0000:00:1f.6' }],
      ips: [],
      routes: [{ dst: '192.168.0.0/16', advmss: 1400, table: 100, scope: 253 }],
      dns: {},
    };
    expect(JSON.stringify(formatResult(r, '1.1.0'))).to.equal(
      '{"cniVersion":"1.1.0","interfaces":[{"name":"net1","socketPath":"/run/vhost/net1.sock","pciID":"0000:00:1f.6"}],' +
        '"routes":[{"dst":"192.168.0.0/16","advmss":1400,"table":100,"scope":253}]}',
    );
    expect(JSON.stringify(formatResult(r, '1.0.0'))).to.equal('{"cniVersion":"1.0.0","interfaces":[{"name":"net1"}],"routes":[{"dst":"192.168.0.0/16"}]}');
  });
});

describe('cni result: parseResult (prevResult of any version)', () => {
  it('reads a 0.3.1 result as the bridge plugin writes it', () => {
    const prev = {
      cniVersion: '0.3.1',
      interfaces: [{ name: 'cni0', mac: '00:11:22:33:44:55' }, { name: 'eth0', mac: '99:88:77:66:55:44', sandbox: '/var/run/netns/blue' }],
      ips: [{ version: '4', address: '10.1.0.5/16', gateway: '10.1.0.1', interface: 1 }],
      dns: { nameservers: ['10.1.0.1'] },
    };
    expect(parseResult(prev)).to.deep.equal({
      interfaces: [{ name: 'cni0', mac: '00:11:22:33:44:55' }, { name: 'eth0', mac: '99:88:77:66:55:44', sandbox: '/var/run/netns/blue' }],
      ips: [{ address: '10.1.0.5/16', gateway: '10.1.0.1', interface: 1 }],
      routes: [],
      dns: { nameservers: ['10.1.0.1'] },
    });
  });

  it('reads an IPAM-style result (no interfaces, no interface index) and the old 0.3.0 "ip" key', () => {
    expect(parseResult({ cniVersion: '0.3.0', ip: [{ version: '4', address: '10.1.0.5/16' }] }).ips).to.deep.equal([{ address: '10.1.0.5/16' }]);
    expect(parseResult({ ips: [{ address: '10.1.0.5/16' }] })).to.deep.equal({ interfaces: [], ips: [{ address: '10.1.0.5/16' }], routes: [], dns: {} });
  });

  it('treats empty mac and sandbox strings as absent', () => {
    expect(parseResult({ interfaces: [{ name: 'x', mac: '', sandbox: '' }] }).interfaces).to.deep.equal([{ name: 'x' }]);
  });

  const bad: { name: string; prev: unknown; code: number; field: string }[] = [
    { name: 'not an object', prev: [], code: 7, field: 'prevResult' },
    { name: 'unsupported version', prev: { cniVersion: '0.2.0' }, code: 1, field: '0.2.0' },
    { name: 'interface without name', prev: { interfaces: [{ mac: '00:11:22:33:44:55' }] }, code: 7, field: 'prevResult.interfaces[0].name' },
    { name: 'bad mac', prev: { interfaces: [{ name: 'a', mac: 'zz' }] }, code: 7, field: 'prevResult.interfaces[0].mac' },
    { name: 'address not CIDR', prev: { ips: [{ address: '10.0.0.1' }] }, code: 7, field: 'prevResult.ips[0].address' },
    { name: 'prefix too long', prev: { ips: [{ address: '10.0.0.1/33' }] }, code: 7, field: 'prevResult.ips[0].address' },
    { name: 'version mismatch', prev: { ips: [{ version: '6', address: '10.0.0.1/24' }] }, code: 7, field: 'prevResult.ips[0].version' },
    { name: 'bad gateway', prev: { ips: [{ address: '10.0.0.1/24', gateway: 'ten' }] }, code: 7, field: 'prevResult.ips[0].gateway' },
    { name: 'interface index out of range', prev: { interfaces: [{ name: 'a' }], ips: [{ address: '10.0.0.1/24', interface: 1 }] }, code: 7, field: 'prevResult.ips[0].interface' },
    { name: 'route without dst', prev: { routes: [{ gw: '10.0.0.1' }] }, code: 7, field: 'prevResult.routes[0].dst' },
    { name: 'negative route mtu', prev: { routes: [{ dst: '0.0.0.0/0', mtu: -1 }] }, code: 7, field: 'prevResult.routes[0].mtu' },
    { name: 'dns nameservers not a list', prev: { dns: { nameservers: '10.0.0.1' } }, code: 7, field: 'prevResult.dns.nameservers' },
  ];
  for (const tc of bad) {
    it(`rejects ${tc.name} with code ${tc.code} naming ${tc.field}`, () => {
      let caught: unknown;
      try {
        parseResult(tc.prev);
      } catch (e) {
        caught = e;
      }
      expect(caught).to.be.instanceOf(CniError);
      expect((caught as CniError).code).to.equal(tc.code);
      expect((caught as CniError).message).to.include(tc.field);
    });
  }
});
