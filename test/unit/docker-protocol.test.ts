import { expect } from 'chai';
import {
  parseBody, parseCreateEndpoint, parseCreateNetwork, parseExternalConnectivity, parseJoin, parseRequestAddress, parseRequestPool,
  PluginRequestError,
} from '../../agent/src/docker/protocol';
import { containerVethName } from '../../agent/src/docker/driver';

const NET = 'a'.repeat(64);
const EP = 'b'.repeat(64);

describe('Docker plugin protocol: requests from dockerd are validated', () => {
  it('an empty body (Plugin.Activate) is an empty object; non-JSON and non-objects are refused', () => {
    expect(parseBody('', 'Plugin.Activate')).to.deep.equal({});
    expect(() => parseBody('{', 'X')).to.throw(PluginRequestError, /not JSON/);
    expect(() => parseBody('[1]', 'X')).to.throw(PluginRequestError, /JSON object/);
  });

  it('RequestPool keeps the pool and the --ipam-opt strings', () => {
    expect(parseRequestPool({ Pool: '10.70.3.0/24', Options: { network: 'red', n: 5 }, V6: false }))
      .to.deep.equal({ pool: '10.70.3.0/24', v6: false, options: { network: 'red' } });
    expect(parseRequestPool({})).to.deep.equal({ v6: false, options: {} });
  });

  it('RequestAddress tells a gateway request from a container one', () => {
    expect(parseRequestAddress({ PoolID: 'red', Options: { RequestAddressType: 'com.docker.network.gateway' } })).to.deep.equal({ poolId: 'red', gateway: true });
    expect(parseRequestAddress({ PoolID: 'red', Address: '10.70.3.9' })).to.deep.equal({ poolId: 'red', address: '10.70.3.9', gateway: false });
    expect(() => parseRequestAddress({})).to.throw(PluginRequestError, /PoolID/);
  });

  it('CreateNetwork reads the first IPv4 pool and the driver options', () => {
    expect(parseCreateNetwork({
      NetworkID: NET, IPv4Data: [{ AddressSpace: 'knit', Pool: '10.70.3.0/24', Gateway: '10.70.3.1/24' }],
      Options: { 'com.docker.network.generic': { 'knit.x': 'y' } },
    })).to.deep.equal({ networkId: NET, pool: '10.70.3.0/24', gateway: '10.70.3.1/24', driverOptions: { 'knit.x': 'y' } });
  });

  it('CreateEndpoint: driver options knit.label.<key> are the endpoint\'s policy labels, validated like every label', () => {
    const options = { 'com.docker.network.endpoint.exposedports': [], 'knit.label.app': 'web', 'knit.label.example.com/tier': 'front', 'knit.other': 'x' };
    const r = parseCreateEndpoint({ NetworkID: NET, EndpointID: EP, Interface: { Address: '10.70.3.5/24' }, Options: options });
    expect(r.labels).to.deep.equal({ app: 'web', 'example.com/tier': 'front' });
    expect(r.optionKeys).to.deep.equal(Object.keys(options));
    expect(() => parseCreateEndpoint({ NetworkID: NET, EndpointID: EP, Options: { 'knit.label.app': 'a/b' } })).to.throw(PluginRequestError, /knit\.label.*app.*label value/);
    expect(() => parseCreateEndpoint({ NetworkID: NET, EndpointID: EP, Options: { 'knit.label.app': 7 } })).to.throw(PluginRequestError, /knit\.label\.app must be a string/);
    expect(() => parseCreateEndpoint({ NetworkID: NET, EndpointID: EP, Options: { 'knit.label.': 'x' } })).to.throw(PluginRequestError);
  });

  it('CreateEndpoint and Join need their IDs; Join needs the sandbox', () => {
    expect(parseCreateEndpoint({ NetworkID: NET, EndpointID: EP, Interface: { Address: '10.70.3.5/24' } }))
      .to.deep.equal({ networkId: NET, endpointId: EP, address: '10.70.3.5/24', labels: {}, optionKeys: [] });
    expect(() => parseCreateEndpoint({ NetworkID: NET })).to.throw(PluginRequestError, /EndpointID/);
    expect(() => parseJoin({ NetworkID: NET, EndpointID: EP })).to.throw(PluginRequestError, /SandboxKey/);
    expect(() => parseJoin({ NetworkID: NET, EndpointID: 'x'.repeat(300), SandboxKey: '/s' })).to.throw(PluginRequestError);
  });

  it('port maps: protocol numbers, host IP "any", refused ephemeral host ports and unknown protocols', () => {
    const ok = parseExternalConnectivity({
      NetworkID: NET, EndpointID: EP,
      Options: { 'com.docker.network.portmap': [{ Proto: 6, IP: '', Port: 80, HostIP: '', HostPort: 8080, HostPortEnd: 8080 }, { Proto: 17, Port: 53, HostIP: '192.0.2.1', HostPort: 5353 }] },
    });
    expect(ok.ports).to.deep.equal([
      { protocol: 'tcp', containerPort: 80, hostPort: 8080 },
      { protocol: 'udp', containerPort: 53, hostPort: 5353, hostIp: '192.0.2.1' },
    ]);
    expect(parseExternalConnectivity({ NetworkID: NET, EndpointID: EP }).ports).to.deep.equal([]);
    expect(() => parseExternalConnectivity({ NetworkID: NET, EndpointID: EP, Options: { 'com.docker.network.portmap': [{ Proto: 6, Port: 80, HostPort: 0 }] } }))
      .to.throw(PluginRequestError, /fixed host ports/);
    expect(() => parseExternalConnectivity({ NetworkID: NET, EndpointID: EP, Options: { 'com.docker.network.portmap': [{ Proto: 1, Port: 80, HostPort: 8 }] } }))
      .to.throw(PluginRequestError, /protocol/);
  });

  it('port maps: host IP "" is every family, 0.0.0.0 every IPv4 and :: every IPv6 address only (as dockerd\'s bridge), others canonical; junk refused', () => {
    const bind = (HostIP: unknown) => parseExternalConnectivity({ NetworkID: NET, EndpointID: EP, Options: { 'com.docker.network.portmap': [{ Proto: 6, Port: 80, HostIP, HostPort: 8080 }] } }).ports[0]!.hostIp;
    expect(bind('')).to.equal(undefined);
    expect(bind(undefined)).to.equal(undefined);
    expect(bind(null)).to.equal(undefined);
    expect(bind('0.0.0.0')).to.equal('0.0.0.0');
    expect(bind('::')).to.equal('::');
    expect(bind('FD77:0::B')).to.equal('fd77::b');
    expect(bind('192.0.2.1')).to.equal('192.0.2.1');
    for (const bad of ['fd77::b; flush ruleset', '192.0.2.1/24', 'fe80::1%eth0', 'localhost', '1.2.3.04', 7, ['::'], { a: 1 }, '::ffff:192.0.2.1', 'a'.repeat(100)]) {
      expect(() => bind(bad), JSON.stringify(bad)).to.throw(PluginRequestError, /HostIP/);
    }
  });

  it('container-side veth names fit the 15-character limit and differ per endpoint', () => {
    const a = containerVethName(EP);
    expect(a).to.have.length(14);
    expect(containerVethName('c'.repeat(64))).to.not.equal(a);
  });
});
