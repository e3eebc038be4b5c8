/**
 * The conflist knitd writes: it lists every CNI version the plugin serves
 * (0.3.0 included), and the plugin's own version negotiation picks 1.1.0 from it.
 */
import { expect } from 'chai';
import { renderConflist } from '../../agent/src/cni/conflist';
import { SUPPORTED_VERSIONS } from '../../cni-wire/spec';
import { parseNetConf } from '../../agent/src/cni/netconf';

describe('cni: the conflist knitd writes', () => {
  const text = renderConflist({ networkName: 'knit', agentSocket: '/run/knit/cni.sock', mtu: 1450, bridge: 'knit0', subnet: '10.244.1.0/24' });
  const conf = JSON.parse(text) as { cniVersion: string; cniVersions: string[]; plugins: Array<Record<string, unknown>> };

  it('lists every version the plugin serves, 0.3.0 included', () => {
    expect(conf.cniVersions).to.deep.equal([...SUPPORTED_VERSIONS]);
    expect(conf.cniVersions).to.include('0.3.0');
    expect(conf.cniVersion).to.equal('1.1.0');
  });

  it('its plugin entry parses as a knit netconf', () => {
    const { cniVersion: _v, cniVersions: _vs, plugins, ...rest } = conf;
    const nc = parseNetConf(JSON.stringify({ ...rest, cniVersions: conf.cniVersions, ...plugins[0] }));
    expect(nc.cniVersion).to.equal('1.1.0');
  });
});
