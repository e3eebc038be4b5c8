/**
 * GC (spec 1.1.0) through the real plugin: every attachment not listed in
 * cni.dev/valid-attachments loses its address, its host veth and its port
 * mappings; the listed ones keep working. Without the list, GC refuses.
 */
import { expect } from 'chai';
import type { Lab } from '../lab/lab';
import { cniEnv, hostVeths, nftCounts, type Knitd, withOneNodeKnitd } from '../lab/knitd';

describe('CNI GC through the real plugin', function () {
  this.timeout(60_000);
  let lab: Lab;
  let knitd: Knitd;

  withOneNodeKnitd((l, k) => { lab = l; knitd = k; });

  it('releases everything not in cni.dev/valid-attachments and keeps the rest working', async () => {
    const env = cniEnv;
    const cs = [lab.addContainer(0, 'ga'), lab.addContainer(0, 'gb'), lab.addContainer(0, 'gc')];
    for (const [i, c] of cs.entries()) {
      const pm = { capabilities: { portMappings: true }, runtimeConfig: { portMappings: [{ hostPort: 30000 + i, containerPort: 80 }] } };
      const r = await knitd.cni('ADD', env(c), knitd.conf('1.1.0', pm));
      expect(r.code, r.stdout).to.equal(0);
    }
    expect(await hostVeths(lab.nodes[0]!.ns)).to.have.length(3);
    expect((await nftCounts(lab.nodes[0]!.ns)).elements).to.equal(3);

    const refused = await knitd.cni('GC', {}, knitd.conf('1.1.0'));
    expect(refused.code, 'GC without the list').to.equal(1);
    expect((refused.json as { code: number; msg: string }).msg).to.include('cni.dev/valid-attachments');
    expect(knitd.ipam().allocations, 'nothing released by the refused GC').to.have.length(3);

    const keep = cs[1]!;
    const gc = await knitd.cni('GC', {}, knitd.conf('1.1.0', { 'cni.dev/valid-attachments': [{ containerID: keep.containerId, ifname: 'eth0' }] }));
    expect(gc.code, gc.stdout).to.equal(0);
    expect(knitd.ipam().allocations.map((a) => a.containerId)).to.deep.equal([keep.containerId]);
    expect(await hostVeths(lab.nodes[0]!.ns)).to.have.length(1);
    expect((await nftCounts(lab.nodes[0]!.ns)).elements).to.equal(1);
    const p = await lab.ping(keep, '10.244.1.1', 2);
    expect(p.received, p.output).to.equal(2);
    for (const gone of [cs[0]!, cs[2]!]) {
      expect((await lab.ping(gone, '10.244.1.1', 1)).received, `${gone.ns} lost its link`).to.equal(0);
    }

    // DEL of a collected attachment still succeeds (idempotent), and of the kept one cleans up.
    for (const c of cs) expect((await knitd.cni('DEL', env(c), knitd.conf('1.1.0'))).code).to.equal(0);
    expect(knitd.ipam().allocations).to.deep.equal([]);
    expect(await hostVeths(lab.nodes[0]!.ns)).to.deep.equal([]);
    expect((await nftCounts(lab.nodes[0]!.ns)).elements).to.equal(0);
  });
});
