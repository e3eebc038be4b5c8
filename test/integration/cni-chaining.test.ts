/**
 * Chaining (conflist semantics) with the real plugin:
 *  - knit first, Debian's reference `portmap` second: knit's ADD result is
 *    portmap's prevResult, portmap's output must be that result unchanged,
 *    and portmap's DNAT (its own iptables rules) actually reaches the
 *    container; DEL runs in reverse order.
 *  - knit second: a prevResult handed to knit is kept in front of what knit
 *    adds, with knit's ips[].interface pointing at knit's container interface.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import type { Lab } from '../lab/lab';
import { cniEnv, REF_CNI_DIR, hostVeths, runPlugin, startTcpReplier, tcpGet, type Knitd, withOneNodeKnitd } from '../lab/knitd';

describe('CNI chaining with the real plugin', function () {
  this.timeout(60_000);
  let lab: Lab;
  let knitd: Knitd;
  const env = cniEnv;

  withOneNodeKnitd((l, k) => { lab = l; knitd = k; });

  it('knit then the reference portmap: the result passes through intact and the mapping works', async () => {
    const c = lab.addContainer(0, 'chain');
    const netName = 'knitchain';
    const v = '1.0.0'; // the newest version Debian's portmap speaks
    const knitConf = knitd.conf(v, { name: netName });
    const add = await knitd.cni('ADD', env(c), knitConf);
    expect(add.code, add.stdout).to.equal(0);
    const knitResult = add.json!;

    const portmapConf = (prevResult: Record<string, unknown>) => JSON.stringify({
      cniVersion: v, name: netName, type: 'portmap', capabilities: { portMappings: true }, snat: true,
      runtimeConfig: { portMappings: [{ hostPort: 8181, containerPort: 81, protocol: 'tcp' }] }, prevResult,
    });
    const pmEnv = { CNI_COMMAND: 'ADD', CNI_PATH: REF_CNI_DIR, ...env(c) };
    // portmap programs the namespace it runs in: run it in the node's.
    const pm = await runPlugin(join(REF_CNI_DIR, 'portmap'), pmEnv, portmapConf(knitResult), lab.nodes[0]!.ns);
    expect(pm.code, `portmap ADD: ${pm.stdout} ${pm.stderr}`).to.equal(0);
    // libcni's Go types always write "dns" (an empty object when there is
    // none); knit omits an empty dns, which the spec allows. Everything else
    // must come back byte for byte.
    expect(knitResult).to.not.have.property('dns');
    expect(pm.json).to.deep.equal({ ...knitResult, dns: {} });

    await startTcpReplier(lab, c.ns, 81, 'via portmap');
    const r = await tcpGet(lab.underlay.ns, lab.nodes[0]!.underlayIp, 8181);
    expect(r, JSON.stringify(r)).to.deep.equal({ data: 'via portmap' });

    // CHECK down the chain, then DEL in reverse order.
    const chk = await knitd.cni('CHECK', env(c), knitd.conf(v, { name: netName, prevResult: pm.json }));
    expect(chk.code, chk.stdout).to.equal(0);
    const pmDel = await runPlugin(join(REF_CNI_DIR, 'portmap'), { ...pmEnv, CNI_COMMAND: 'DEL' }, portmapConf(pm.json!), lab.nodes[0]!.ns);
    expect(pmDel.code, `portmap DEL: ${pmDel.stdout} ${pmDel.stderr}`).to.equal(0);
    const del = await knitd.cni('DEL', env(c), knitd.conf(v, { name: netName, prevResult: pm.json }));
    expect(del.code, del.stdout).to.equal(0);
    expect(knitd.ipam().allocations).to.deep.equal([]);
    expect(await hostVeths(lab.nodes[0]!.ns)).to.deep.equal([]);
    lab.removeContainer(c);
  });

  for (const v of ['0.4.0', '1.0.0', '1.1.0']) {
    it(`knit second in a chain (${v}): a given prevResult is merged, indexes stay right`, async () => {
      const c = lab.addContainer(0, 'second');
      const prevResult = {
        cniVersion: v,
        interfaces: [{ name: 'net1', mac: '02:00:00:00:00:01', sandbox: c.netnsPath }],
        ips: [{ ...(v === '0.4.0' ? { version: '4' } : {}), address: '10.99.0.5/24', gateway: '10.99.0.1', interface: 0 }],
        routes: [{ dst: '10.99.0.0/16', gw: '10.99.0.1' }],
        dns: { nameservers: ['10.99.0.53'], search: ['lab.example'] },
      };
      const r = await knitd.cni('ADD', env(c), knitd.conf(v, { prevResult }));
      expect(r.code, r.stdout).to.equal(0);
      const out = r.json as {
        cniVersion: string; interfaces: Array<Record<string, unknown>>; ips: Array<Record<string, unknown>>;
        routes: Array<Record<string, unknown>>; dns: Record<string, unknown>;
      };
      expect(out.cniVersion).to.equal(v);
      expect(out.interfaces).to.have.length(3);
      expect(out.interfaces[0]).to.deep.equal(prevResult.interfaces[0]);
      expect(out.interfaces[1]!.name).to.match(/^knv[0-9a-f]{12}$/);
      expect(out.interfaces[2]).to.include({ name: 'eth0', sandbox: c.netnsPath });
      expect(out.ips).to.have.length(2);
      expect(out.ips[0]).to.deep.equal(prevResult.ips[0]);
      expect(out.ips[1]!.interface).to.equal(2);
      expect(out.ips[1]!.gateway).to.equal('10.244.1.1');
      expect(out.routes).to.deep.equal([{ dst: '10.99.0.0/16', gw: '10.99.0.1' }, { dst: '0.0.0.0/0', gw: '10.244.1.1' }]);
      expect(out.dns).to.deep.equal(prevResult.dns);

      const chk = await knitd.cni('CHECK', env(c), knitd.conf(v, { prevResult: out }));
      expect(chk.code, chk.stdout).to.equal(0);
      const del = await knitd.cni('DEL', env(c), knitd.conf(v, { prevResult: out }));
      expect(del.code, del.stdout).to.equal(0);
      expect(knitd.ipam().allocations).to.deep.equal([]);
      lab.removeContainer(c);
    });
  }
});
