/**
 * Concurrent `network create`s against a real etcd (issue 14): the conflict
 * check and the write are one decision. Before, each create listed the
 * networks, found no conflict, and committed a transaction that compared
 * only its own key, so creates of different names with overlapping CIDRs
 * or the same VNI all succeeded.
 */
import { expect } from 'chai';
import { withEtcdClient } from '../lab/etcd';
import { RUN_PREFIX } from '../lab/netns';
import { parseNetwork } from '../../agent/src/backend';
import type { EtcdClient } from '../../agent/src/store/etcd-client';
import { ConflictError } from '../../agent/src/store/errors';
import { createNamedNetwork, listNetworks } from '../../agent/src/store/named-networks';
import type { NetworkConfig } from '../../agent/src/store/network-config';

let seq = 0;
const uniquePrefix = (): string => `/knit-test/${RUN_PREFIX}-nets${++seq}`;
const net = (cidr: string, vni: number): NetworkConfig => parseNetwork({ clusterCidr: cidr, backend: { type: 'vxlan', vni } });

/** Runs every create at once; the names that won and the errors of the others. */
async function race(client: EtcdClient, prefix: string, creates: Array<{ name: string; config: NetworkConfig; pickVni?: boolean }>): Promise<{ won: string[]; lost: string[] }> {
  const results = await Promise.allSettled(creates.map((c) => createNamedNetwork(client, c.name, c.config, prefix, { pickVni: c.pickVni ?? false })));
  const won: string[] = [];
  const lost: string[] = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') won.push(creates[i]!.name);
    else {
      expect(r.reason, String(r.reason)).to.be.instanceOf(ConflictError);
      lost.push((r.reason as Error).message);
    }
  });
  return { won, lost };
}

describe('store: concurrent named-network creates (real etcd)', function () {
  this.timeout(60_000);
  let client: EtcdClient;
  withEtcdClient((c) => { client = c; });

  it('12 different names, one overlapping CIDR: exactly one wins, the others name the winner', async () => {
    const prefix = uniquePrefix();
    const { won, lost } = await race(client, prefix, Array.from({ length: 12 }, (_, i) => ({ name: `over${i}`, config: net('10.60.0.0/16', 100 + i) })));
    expect(won).to.have.length(1);
    expect(lost).to.have.length(11);
    for (const m of lost) expect(m).to.match(new RegExp(`overlaps network ${won[0]} \\(10\\.60\\.0\\.0/16\\)`));
    expect((await listNetworks(client, prefix)).networks.map((n) => n.name)).to.deep.equal(won);
  });

  it('12 different names and CIDRs, one explicit VNI: exactly one wins', async () => {
    const prefix = uniquePrefix();
    const { won, lost } = await race(client, prefix, Array.from({ length: 12 }, (_, i) => ({ name: `vni${i}`, config: net(`10.${70 + i}.0.0/16`, 77) })));
    expect(won).to.have.length(1);
    for (const m of lost) expect(m).to.match(new RegExp(`VXLAN VNI 77 is used by network ${won[0]}`));
  });

  it('12 creates that leave the VNI to knit all win, with 12 different VNIs', async () => {
    const prefix = uniquePrefix();
    const { won } = await race(client, prefix, Array.from({ length: 12 }, (_, i) => ({ name: `auto${i}`, config: net(`10.${90 + i}.0.0/16`, 2), pickVni: true })));
    expect(won).to.have.length(12);
    const vnis = (await listNetworks(client, prefix)).networks.map((n) => n.config.backend.vni);
    expect(new Set(vnis).size, `VNIs ${JSON.stringify(vnis)}`).to.equal(12);
  });

  it('one name created 6 times at once: one wins, the others are told it exists', async () => {
    const prefix = uniquePrefix();
    const { won, lost } = await race(client, prefix, Array.from({ length: 6 }, (_, i) => ({ name: 'same', config: net(`10.${110 + i}.0.0/16`, 200 + i) })));
    expect(won).to.deep.equal(['same']);
    for (const m of lost) expect(m).to.match(/network same already exists|overlaps network same|used by network same/);
  });
});
