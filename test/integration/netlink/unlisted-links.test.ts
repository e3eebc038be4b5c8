/**
 * UnlistedLinks against the kernel: a deleted bridge or veth leaves its
 * namespace (RTM_DELLINK, addresses and name gone) before the deletion's
 * ack, and knit counts it gone there. The deletion is an `ip` process (in
 * knitd it is a job on the thread pool, link-delete-socket.test.ts): its
 * exit is the ack.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { openHandle, type Handle } from '../../../agent/src/netlink';
import { UnlistedLinks } from '../../../agent/src/dataplane/unlisted-links';
import { silentLogger } from '../../../agent/src/log/logger';
import { addNetns, delNetns, netnsPath, nsRun } from '../../lab/netns';

const exec = promisify(execFile);

describe('UnlistedLinks: links count as gone when they leave the namespace, before the ack', () => {
  let ns: string;
  let peerNs: string;
  let h: Handle;
  let unlisted: UnlistedLinks;

  before(() => {
    ns = addNetns('ul');
    peerNs = addNetns('up');
    h = openHandle(netnsPath(ns));
    unlisted = new UnlistedLinks(h, silentLogger());
  });
  after(() => {
    unlisted?.close();
    h?.close();
    delNetns(ns);
    delNetns(peerNs);
  });

  for (const kind of ['bridge', 'veth'] as const) {
    it(`a ${kind}: gone (no name, no address) at its event, while the deleting process is still waiting for the kernel`, async () => {
      const name = `kul${kind}0`;
      if (kind === 'bridge') nsRun(ns, 'ip', ['link', 'add', name, 'type', 'bridge']);
      else nsRun(ns, 'ip', ['link', 'add', name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peerNs]);
      nsRun(ns, 'ip', ['addr', 'add', '10.253.0.1/24', 'dev', name]);
      nsRun(ns, 'ip', ['link', 'set', name, 'up']);
      const link = await h.linkByName(name);
      expect(link, name).to.not.equal(undefined);
      let exited = false;
      const before = { ...unlisted.stats };
      await unlisted.delete(link!.index, async () => {
        await exec('ip', ['-n', ns, 'link', 'del', name]);
        exited = true;
      });
      // Resolved by the event: the ip process has not returned yet (the kernel still waits for the device's references).
      expect(unlisted.stats.atEvent, 'ended at the event').to.equal(before.atEvent + 1);
      expect(exited, 'the ack came later').to.equal(false);
      expect(await h.linkByName(name)).to.equal(undefined);
      expect((await h.addrList({})).map((a) => a.cidr)).to.not.include('10.253.0.1/24');
      if (kind === 'veth') expect(nsRun(peerNs, 'ip', ['-o', 'link', 'show'])).to.not.match(/eth0/);
      // The name is free at once: a new link of that name can be made while the old one's wait goes on.
      nsRun(ns, 'ip', ['link', 'add', name, 'type', 'bridge']);
      nsRun(ns, 'ip', ['link', 'del', name]);
    });
  }
});
