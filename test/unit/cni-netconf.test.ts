import { expect } from 'chai';
import { parseCniArgs, parseNetConf } from '../../agent/src/cni/netconf';
import { CniError } from '../../agent/src/cni/errors';
import { conf } from '../support/cni-fakes';

function codeOf(fn: () => unknown): { code: number; msg: string } {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(CniError);
    return { code: (e as CniError).code, msg: (e as CniError).message };
  }
  throw new Error('expected a CniError, nothing was thrown');
}

describe('cni netconf: valid configurations', () => {
  it('reads the plugin configuration a runtime derives from knit\'s conflist', () => {
    const c = parseNetConf(
      JSON.stringify({
        cniVersion: '1.1.0',
        name: 'knit',
        type: 'knit',
        agentSocket: '/run/knit/cni.sock',
        bridge: 'knit0',
        subnet: '10.244.1.0/24',
        mtu: 1450,
        routes: [{ dst: '0.0.0.0/0' }, { dst: '192.168.0.0/16', gw: '10.244.1.254' }],
        dns: { nameservers: ['10.96.0.10'], domain: 'cluster.local', search: ['svc.cluster.local'], options: ['ndots:5'] },
        runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }, { hostPort: 5353, containerPort: 53, protocol: 'UDP', hostIP: '127.0.0.1' }, { hostPort: 9000, containerPort: 9000, hostIP: '' }], bandwidth: { ingressRate: 1 } },
        args: { labels: { app: 'web' } },
        prevResult: { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: '/run/netns/c1' }], ips: [{ address: '10.244.1.5/24', interface: 0 }] },
      }),
    );
    expect(c.cniVersion).to.equal('1.1.0');
    expect(c.name).to.equal('knit');
    expect(c.agentSocket).to.equal('/run/knit/cni.sock');
    expect(c.mtu).to.equal(1450);
    expect(c.routes).to.deep.equal([{ dst: '0.0.0.0/0' }, { dst: '192.168.0.0/16', gw: '10.244.1.254' }]);
    expect(c.dns).to.deep.equal({ nameservers: ['10.96.0.10'], domain: 'cluster.local', search: ['svc.cluster.local'], options: ['ndots:5'] });
    expect(c.runtimeConfig).to.deep.equal({
      portMappings: [
        { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
        { hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' },
        { hostPort: 9000, containerPort: 9000, protocol: 'tcp' },
      ],
      other: { bandwidth: { ingressRate: 1 } },
    });
    expect(c.args).to.deep.equal({ labels: { app: 'web' } });
    expect(c.prevResult).to.deep.equal({ interfaces: [{ name: 'eth0', sandbox: '/run/netns/c1' }], ips: [{ address: '10.244.1.5/24', interface: 0 }], routes: [], dns: {} });
    expect(c.raw.bridge).to.equal('knit0');
  });

  it('selects the highest supported entry of cniVersions when cniVersion is absent (spec 1.1 rule)', () => {
    expect(parseNetConf(JSON.stringify({ name: 'n', type: 'knit', cniVersions: ['0.3.1', '1.0.0', '9.9.9', '0.4.0'] })).cniVersion).to.equal('1.0.0');
  });

  it('lets cniVersion decide when both are present', () => {
    expect(parseNetConf(JSON.stringify({ name: 'n', type: 'knit', cniVersion: '0.4.0', cniVersions: ['0.4.0', '1.1.0'] })).cniVersion).to.equal('0.4.0');
  });

  it('reads GC valid attachments under both spellings the spec has used', () => {
    for (const key of ['cni.dev/valid-attachments', 'cni.dev/attachments']) {
      const c = parseNetConf(JSON.stringify(conf('1.1.0', { [key]: [{ containerID: 'abc', ifname: 'eth0' }] })));
      expect(c.validAttachments).to.deep.equal([{ containerId: 'abc', ifname: 'eth0' }]);
    }
  });
});

describe('cni netconf: invalid configurations', () => {
  const cases: { name: string; text: string; code: number; field: string }[] = [
    { name: 'not JSON', text: '{"cniVersion":', code: 6, field: 'decoding' },
    { name: 'not an object', text: '[1]', code: 6, field: 'not a JSON object' },
    { name: 'no cniVersion', text: JSON.stringify({ name: 'n', type: 'knit' }), code: 7, field: 'cniVersion' },
    { name: 'numeric cniVersion', text: JSON.stringify(conf('x', { cniVersion: 1 })), code: 7, field: 'cniVersion' },
    { name: 'unsupported cniVersion', text: JSON.stringify(conf('0.2.0')), code: 1, field: '0.2.0' },
    { name: 'newer unknown cniVersion', text: JSON.stringify(conf('1.2.0')), code: 1, field: '1.2.0' },
    { name: 'cniVersions not a list', text: JSON.stringify({ name: 'n', type: 'knit', cniVersions: '1.0.0' }), code: 7, field: 'cniVersions' },
    { name: 'cniVersions with nothing supported', text: JSON.stringify({ name: 'n', type: 'knit', cniVersions: ['0.1.0', '2.0.0'] }), code: 1, field: 'cniVersions' },
    { name: 'missing name', text: JSON.stringify({ cniVersion: '1.0.0', type: 'knit' }), code: 7, field: 'name' },
    { name: 'bad name', text: JSON.stringify(conf('1.0.0', { name: '-net' })), code: 7, field: 'name' },
    { name: 'missing type', text: JSON.stringify({ cniVersion: '1.0.0', name: 'n' }), code: 7, field: 'type' },
    { name: 'type with a slash', text: JSON.stringify(conf('1.0.0', { type: '../knit' })), code: 7, field: 'type' },
    { name: 'relative agentSocket', text: JSON.stringify(conf('1.0.0', { agentSocket: 'cni.sock' })), code: 7, field: 'agentSocket' },
    { name: 'mtu too small', text: JSON.stringify(conf('1.0.0', { mtu: 60 })), code: 7, field: 'mtu' },
    { name: 'mtu not an integer', text: JSON.stringify(conf('1.0.0', { mtu: '1500' })), code: 7, field: 'mtu' },
    { name: 'routes not a list', text: JSON.stringify(conf('1.0.0', { routes: {} })), code: 7, field: 'routes' },
    { name: 'route dst not CIDR', text: JSON.stringify(conf('1.0.0', { routes: [{ dst: '10.0.0.0' }] })), code: 7, field: 'routes[0].dst' },
    { name: 'route gw not an IP', text: JSON.stringify(conf('1.0.0', { routes: [{ dst: '10.0.0.0/8', gw: 'router' }] })), code: 7, field: 'routes[0].gw' },
    { name: 'dns search not strings', text: JSON.stringify(conf('1.0.0', { dns: { search: [1] } })), code: 7, field: 'dns.search[0]' },
    { name: 'capability not boolean', text: JSON.stringify(conf('1.0.0', { capabilities: { portMappings: 'yes' } })), code: 7, field: 'capabilities.portMappings' },
    { name: 'runtimeConfig not an object', text: JSON.stringify(conf('1.0.0', { runtimeConfig: [] })), code: 7, field: 'runtimeConfig' },
    { name: 'hostPort missing', text: JSON.stringify(conf('1.0.0', { runtimeConfig: { portMappings: [{ containerPort: 80 }] } })), code: 7, field: 'runtimeConfig.portMappings[0].hostPort' },
    { name: 'hostPort out of range', text: JSON.stringify(conf('1.0.0', { runtimeConfig: { portMappings: [{ hostPort: 70000, containerPort: 80 }] } })), code: 7, field: 'runtimeConfig.portMappings[0].hostPort' },
    { name: 'containerPort zero', text: JSON.stringify(conf('1.0.0', { runtimeConfig: { portMappings: [{ hostPort: 80, containerPort: 0 }] } })), code: 7, field: 'runtimeConfig.portMappings[0].containerPort' },
    { name: 'unknown protocol', text: JSON.stringify(conf('1.0.0', { runtimeConfig: { portMappings: [{ hostPort: 80, containerPort: 80, protocol: 'icmp' }] } })), code: 7, field: 'runtimeConfig.portMappings[0].protocol' },
    { name: 'hostIP not an IP', text: JSON.stringify(conf('1.0.0', { runtimeConfig: { portMappings: [{ hostPort: 80, containerPort: 80, hostIP: 'localhost' }] } })), code: 7, field: 'runtimeConfig.portMappings[0].hostIP' },
    { name: 'bad prevResult', text: JSON.stringify(conf('1.0.0', { prevResult: { ips: [{ address: 'x' }] } })), code: 7, field: 'prevResult.ips[0].address' },
    { name: 'args not an object', text: JSON.stringify(conf('1.0.0', { args: 'a=b' })), code: 7, field: 'args' },
    { name: 'GC attachment with bad container ID', text: JSON.stringify(conf('1.1.0', { 'cni.dev/valid-attachments': [{ containerID: '', ifname: 'eth0' }] })), code: 7, field: 'cni.dev/valid-attachments[0].containerID' },
    { name: 'GC attachment with bad ifname', text: JSON.stringify(conf('1.1.0', { 'cni.dev/valid-attachments': [{ containerID: 'a', ifname: 'a/b' }] })), code: 7, field: 'cni.dev/valid-attachments[0].ifname' },
    { name: 'an ipam section (knitd is the IPAM)', text: JSON.stringify(conf('1.0.0', { ipam: { type: 'host-local' } })), code: 2, field: 'ipam: {"type":"host-local"}' },
  ];
  for (const tc of cases) {
    it(`${tc.name} → code ${tc.code} naming ${tc.field}`, () => {
      const { code, msg } = codeOf(() => parseNetConf(tc.text));
      expect(code).to.equal(tc.code);
      expect(msg).to.include(tc.field);
    });
  }
});

describe('cni netconf: CNI_ARGS', () => {
  const good: { input: string | undefined; want: Record<string, string> }[] = [
    { input: undefined, want: {} },
    { input: '', want: {} },
    { input: 'FOO=BAR', want: { FOO: 'BAR' } },
    { input: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0', want: { IgnoreUnknown: '1', K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'web-0' } },
    { input: 'A=;B=x;', want: { A: '', B: 'x' } },
    { input: 'TOKEN=YWJj==', want: { TOKEN: 'YWJj==' } },
  ];
  for (const tc of good) {
    it(`parses ${JSON.stringify(tc.input)}`, () => {
      expect(parseCniArgs(tc.input)).to.deep.equal(tc.want);
    });
  }
  for (const input of ['FOO', 'FOO=1;BAR', '=1', 'A=1;;=2']) {
    it(`rejects ${JSON.stringify(input)} with code 4 naming CNI_ARGS`, () => {
      const { code, msg } = codeOf(() => parseCniArgs(input));
      expect(code).to.equal(4);
      expect(msg).to.include('CNI_ARGS');
    });
  }
});

describe('CNI netconf: the knit "network" key', () => {
  it('is optional, kept when valid, and refused when it is not a network name', () => {
    const base = { cniVersion: '1.0.0', name: 'knit', type: 'knit' };
    expect(parseNetConf(JSON.stringify(base)).network).to.equal(undefined);
    expect(parseNetConf(JSON.stringify({ ...base, network: 'blue' })).network).to.equal('blue');
    for (const bad of ['', 'a/b', '../x', 7]) {
      expect(() => parseNetConf(JSON.stringify({ ...base, network: bad })), String(bad)).to.throw(/network/);
    }
  });
});
