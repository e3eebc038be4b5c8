/**
 * The backends' probe for nexthop objects (backend/nexthop-routes.ts): a
 * kernel without them plans gateway routes and says so once; any other
 * failure of the probe fails setup (with context) rather than silently
 * planning the slow shape.
 */
import { expect } from 'chai';
import { NexthopSupport } from '../../agent/src/backend/nexthop-routes';
import { NetlinkError } from '../../agent/src/netlink/errors';
import type { Nexthop } from '../../agent/src/netlink';
import { recordingLogger } from '../support/recording-logger';

const failing = (code: string, errno: number): { nexthopList(): Promise<Nexthop[]>; calls: number } => {
  const nl = {
    calls: 0,
    async nexthopList(): Promise<Nexthop[]> {
      nl.calls++;
      throw new NetlinkError({ errno, code, op: 'nexthop list', object: 'nexthops' });
    },
  };
  return nl;
};

describe('backend: nexthop object support', () => {
  it('a kernel with them: supported, probed once', async () => {
    const { logger, lines } = recordingLogger();
    let calls = 0;
    const s = new NexthopSupport({ nexthopList: async () => { calls++; return []; } }, logger);
    expect(s.supported).to.equal(false);
    expect(await s.check()).to.equal(true);
    expect(await s.check()).to.equal(true);
    expect(calls).to.equal(1);
    expect(s.supported).to.equal(true);
    expect(lines).to.deep.equal([]);
  });

  for (const [code, errno] of [['EOPNOTSUPP', 95], ['EINVAL', 22], ['EAFNOSUPPORT', 97]] as const) {
    it(`${code} from the dump: not supported, logged once, not asked again`, async () => {
      const { logger, lines } = recordingLogger();
      const nl = failing(code, errno);
      const s = new NexthopSupport(nl, logger);
      expect(await s.check()).to.equal(false);
      expect(await s.check()).to.equal(false);
      expect(nl.calls).to.equal(1);
      expect(lines.map((l) => String(l.message))).to.deep.equal(['kernel has no nexthop objects: IPv4 peer routes name their gateways (slower to program at thousands of peers)']);
    });
  }

  it('another error (EPERM) fails the probe with context, and the next setup asks again', async () => {
    const { logger } = recordingLogger();
    const nl = failing('EPERM', 1);
    const s = new NexthopSupport(nl, logger);
    const err = await s.check().then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/probe the kernel for nexthop objects/);
    await s.check().catch(() => undefined);
    expect(nl.calls).to.equal(2);
  });
});
