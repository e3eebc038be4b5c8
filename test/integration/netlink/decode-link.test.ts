/**
 * The compact link decoder (decode.ts decodeLink, which link events use)
 * against the `netlink` package's parser + linkFromMessage (which link
 * lists use), on a real kernel's dump: the same Link for every kind knit
 * meets (lo, a bridge, both ends of two veths, one of them a bridge port with
 * hairpin on, a VXLAN device with local address and port), and a link-added event whose
 * ifi_change says new.
 */
import { expect } from 'chai';
import { rt } from 'netlink';
import { openHandle, type Handle, type Link, type NetlinkEvent } from '../../../agent/src/netlink';
import { decodeLink } from '../../../agent/src/netlink/decode';
import { linkFromMessage } from '../../../agent/src/netlink/links';
import { RawDumper } from '../../../agent/src/netlink/raw-dump';
import { addNetns, delNetns, netnsPath, nsRun } from '../../lab/netns';
import { waitFor } from '../../support/wait';

describe('netlink: compact link decoding', () => {
  let ns: string;
  let h: Handle;
  before(() => {
    ns = addNetns('dl');
    h = openHandle(netnsPath(ns));
    for (const args of [
      ['link', 'set', 'lo', 'up'],
      ['link', 'add', 'dl-u0', 'mtu', '1400', 'type', 'veth', 'peer', 'name', 'dl-u1'],
      ['link', 'add', 'dl-br', 'type', 'bridge'],
      ['link', 'add', 'dl-v0', 'type', 'veth', 'peer', 'name', 'dl-v1'],
      ['link', 'set', 'dl-v0', 'master', 'dl-br', 'up'],
      ['link', 'set', 'dl-v0', 'type', 'bridge_slave', 'hairpin', 'on'],
      ['addr', 'add', '192.0.2.1/24', 'dev', 'dl-u0'],
      ['link', 'add', 'dl-vx', 'type', 'vxlan', 'id', '42', 'dstport', '8472', 'local', '192.0.2.1', 'dev', 'dl-u0', 'nolearning'],
    ]) nsRun(ns, 'ip', args);
  });
  after(() => {
    h?.close();
    delNetns(ns);
  });

  it('gives the same Link as the package parser for every link of a dump', async () => {
    const dumper = new RawDumper(netnsPath(ns));
    const pairs: Array<[Link, Link]> = [];
    try {
      // RTM_GETLINK with an empty ifinfomsg: every link
      await dumper.dump(rt.MessageType.GETLINK, Buffer.alloc(16), (_type, buf, start, end) => {
        pairs.push([decodeLink(buf, start, end).link, linkFromMessage(rt.parseLinkMessage(buf.subarray(start, end)))]);
      });
    } finally {
      dumper.close();
    }
    expect(pairs.map(([, p]) => p.name).sort()).to.deep.equal(['dl-br', 'dl-u0', 'dl-u1', 'dl-v0', 'dl-v1', 'dl-vx', 'lo']);
    for (const [compact, pkg] of pairs) expect(compact, pkg.name).to.deep.equal(pkg);
    // the cases the comparison must cover are in it
    const byName = new Map(pairs.map(([c]) => [c.name, c]));
    expect(byName.get('dl-v0')).to.include({ kind: 'veth', hairpin: true, up: true });
    expect(byName.get('dl-v0')!.masterIndex).to.equal(byName.get('dl-br')!.index);
    expect(byName.get('dl-v1')!.peerIndex).to.equal(byName.get('dl-v0')!.index);
    expect(byName.get('dl-vx')!.vxlan).to.deep.include({ vni: 42, port: 8472, local: '192.0.2.1', learning: false });
    expect(byName.get('lo')!.mac).to.equal(undefined);
    expect(byName.get('dl-u0')!.mtu).to.equal(1400);
    expect(byName.get('dl-vx')!.vxlan!.underlayIndex).to.equal(byName.get('dl-u0')!.index);
  });

  it('a new link is link-added, a change link-changed, a deletion link-deleted, each with its kind and name', async () => {
    const events: NetlinkEvent[] = [];
    const sub = h.subscribe((e) => events.push(e));
    try {
      nsRun(ns, 'ip', ['link', 'add', 'dl-new', 'type', 'veth', 'peer', 'name', 'dl-new-p']);
      nsRun(ns, 'ip', ['link', 'set', 'dl-new', 'up']);
      nsRun(ns, 'ip', ['link', 'del', 'dl-new']);
      await waitFor('the deletion', () => events.find((e) => e.type === 'link-deleted' && e.link.name === 'dl-new'), 3000);
      const mine = events.filter((e): e is Extract<NetlinkEvent, { link: Link }> => 'link' in e && e.link.name === 'dl-new');
      expect(mine[0]).to.deep.include({ type: 'link-added' });
      expect(mine[0]!.link).to.include({ kind: 'veth', up: false });
      expect(mine.some((e) => e.type === 'link-changed' && e.link.up)).to.equal(true);
      expect(mine[mine.length - 1]!.type).to.equal('link-deleted');
    } finally {
      sub.close();
    }
  });
});
