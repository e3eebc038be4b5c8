import { expect } from 'chai';
import { status } from '@grpc/grpc-js';
import { ApiStatusError, checkContainerId, checkIfname, checkNodeName, checkSubnet } from '../../agent/src/api/validate';
import { ApiConfigError, checkTcp } from '../../agent/src/api/transport';

function code(fn: () => void): { code: status; message: string } | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (e) {
    expect(e).to.be.instanceOf(ApiStatusError);
    return { code: (e as ApiStatusError).code, message: (e as Error).message };
  }
}

describe('api request validation', () => {
  const cases: Array<{ name: string; fn: () => void; ok?: true; message?: RegExp }> = [
    { name: 'a docker container ID', fn: () => checkContainerId('container_id', 'a'.repeat(64), false), ok: true },
    { name: 'a podman-style ID with _ . -', fn: () => checkContainerId('container_id', 'k8s_pod.1-x', false), ok: true },
    { name: 'empty optional ID', fn: () => checkContainerId('container_id', '', true), ok: true },
    { name: 'empty required ID', fn: () => checkContainerId('container_id', '', false), message: /^container_id: is required$/ },
    { name: 'ID with a slash', fn: () => checkContainerId('container_id', '../etc', false), message: /^container_id: "..\/etc" has characters/ },
    { name: 'ID with a space', fn: () => checkContainerId('container_id', 'a b', true), message: /^container_id: "a b"/ },
    { name: 'ID starting with a dash', fn: () => checkContainerId('container_id', '-a', true), message: /^container_id:/ },
    { name: 'very long ID', fn: () => checkContainerId('container_id', 'a'.repeat(1025), true), message: /longer than 1024/ },
    { name: 'ifname eth0', fn: () => checkIfname('ifname', 'eth0'), ok: true },
    { name: 'ifname too long', fn: () => checkIfname('ifname', 'a'.repeat(16)), message: /^ifname: "a{16}" is not a valid interface name/ },
    { name: 'ifname with slash', fn: () => checkIfname('ifname', 'a/b'), message: /^ifname:/ },
    { name: 'node name', fn: () => checkNodeName('node_name', 'node-1.example'), ok: true },
    { name: 'node name upper case', fn: () => checkNodeName('node_name', 'Node1'), message: /^node_name: "Node1" is not a valid node name/ },
    { name: 'subnet', fn: () => checkSubnet('subnet', '10.244.1.0/24'), ok: true },
    { name: 'subnet with host bits', fn: () => checkSubnet('subnet', '10.244.1.1/24'), message: /^subnet: "10.244.1.1\/24" has host bits set$/ },
    { name: 'subnet not a CIDR', fn: () => checkSubnet('subnet', 'ten'), message: /^subnet: "ten" is not an IPv4 CIDR/ },
    { name: 'subnet octet > 255', fn: () => checkSubnet('subnet', '10.300.0.0/16'), message: /is not an IPv4 CIDR/ },
    { name: 'subnet /33', fn: () => checkSubnet('subnet', '10.0.0.0/33'), message: /is not an IPv4 CIDR/ },
  ];
  for (const tc of cases) {
    it(`${tc.ok ? 'accepts' : 'refuses'} ${tc.name}`, () => {
      const r = code(tc.fn);
      if (tc.ok) {
        expect(r).to.equal('ok');
        return;
      }
      expect(r).to.not.equal('ok');
      const { code: c, message } = r as { code: status; message: string };
      expect(c).to.equal(status.INVALID_ARGUMENT);
      expect(message).to.match(tc.message as RegExp);
    });
  }
});

describe('api TCP transport rules', () => {
  const tls = { cert: Buffer.from('c'), key: Buffer.from('k'), clientCa: Buffer.from('a') };
  it('requires mutual TLS unless insecure is explicit', () => {
    expect(checkTcp({ address: '127.0.0.1:9655', tls })).to.equal('mtls');
    expect(checkTcp({ address: '127.0.0.1:9655', insecure: true })).to.equal('insecure');
    expect(checkTcp({ address: '[::1]:9655', tls, insecure: true })).to.equal('mtls');
    expect(() => checkTcp({ address: '127.0.0.1:9655' })).to.throw(ApiConfigError, /refusing to serve the gRPC API on TCP 127.0.0.1:9655 without TLS: set grpc.tlsCertFile/);
    expect(() => checkTcp({ address: '127.0.0.1:9655', insecure: false })).to.throw(ApiConfigError, /grpc.insecure=true/);
  });
  it('refuses empty TLS material and malformed addresses', () => {
    expect(() => checkTcp({ address: '127.0.0.1:9655', tls: { ...tls, clientCa: Buffer.alloc(0) } })).to.throw(ApiConfigError, /client CA/);
    for (const a of ['9655', 'host', 'h:99999', 'a b:1']) expect(() => checkTcp({ address: a, insecure: true }), a).to.throw(ApiConfigError, /is not host:port/);
  });
});
