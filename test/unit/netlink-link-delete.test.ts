/**
 * Link deletion on its own socket, without a kernel: the three requests'
 * bytes (the same the `netlink` package sent for Handle.linkDel,
 * linkSetGroup and linkDelGroup, which the kernel accepted in every lab
 * test, and a literal table), their input checks, and LinkDeleteSocket over
 * a fake native socket: one job at a time, errnos turned into the
 * NetlinkErrors Handle.linkDel rejects with.
 */
import { expect } from 'chai';
import { AttrStream, Flags, formatMessage, ifla, rt } from 'netlink';
import { encodeLinkDel, encodeLinkDelGroup, encodeLinkSetGroup } from '../../agent/src/netlink/link-delete-messages';
import { LinkDeleteSocket, type NativeRtnlSocket } from '../../agent/src/netlink/link-delete-socket';
import { NetlinkError, NetlinkInputError } from '../../agent/src/netlink/errors';

const GROUP = 0x6b6e6974;

/** What the package sent: its link formatter, REQUEST|ACK, seq and port 0 (the native job sets them). */
function packageMessage(type: number, data: rt.Link, attrs: ifla.LinkAttrs): string {
  const st = new AttrStream();
  rt.formatLinkMessage({ kind: 'link', data, attrs }, st);
  return Buffer.concat(formatMessage({ type, flags: Flags.REQUEST | Flags.ACK, seq: 0, port: 0, data: st.bufs as Uint8Array[] })).toString('hex');
}

const hex = (s: string): string => s.replace(/\s+/g, '');

describe('link deletion requests: bytes', () => {
  const cases = [
    {
      name: 'link del #7: RTM_DELLINK, ifinfomsg with the index',
      ours: () => encodeLinkDel(7),
      theirs: () => packageMessage(rt.MessageType.DELLINK, { index: 7 }, {}),
      // nlmsghdr: len 32, type 17, flags REQUEST|ACK, seq 0, port 0; ifinfomsg: family 0, type 0, index 7, flags 0, change 0
      literal: '20000000 1100 0500 00000000 00000000  00 00 0000 07000000 00000000 00000000',
    },
    {
      name: 'link set #7 group "knit": RTM_SETLINK, ifinfomsg, IFLA_GROUP',
      ours: () => encodeLinkSetGroup(7, GROUP),
      theirs: () => packageMessage(rt.MessageType.SETLINK, { index: 7 }, { group: GROUP }),
      // ... then rtattr len 8, type 27 (IFLA_GROUP), u32 0x6b6e6974 little-endian
      literal: '28000000 1300 0500 00000000 00000000  00 00 0000 07000000 00000000 00000000  0800 1b00 74696e6b',
    },
    {
      name: 'link del group "knit": RTM_DELLINK, index 0, IFLA_GROUP',
      ours: () => encodeLinkDelGroup(GROUP),
      theirs: () => packageMessage(rt.MessageType.DELLINK, {}, { group: GROUP }),
      literal: '28000000 1100 0500 00000000 00000000  00 00 0000 00000000 00000000 00000000  0800 1b00 74696e6b',
    },
    {
      name: 'the largest index (2^31-1) and group (2^32-1)',
      ours: () => encodeLinkSetGroup(0x7fffffff, 0xffffffff),
      theirs: () => packageMessage(rt.MessageType.SETLINK, { index: 0x7fffffff }, { group: 0xffffffff }),
      literal: '28000000 1300 0500 00000000 00000000  00 00 0000 ffffff7f 00000000 00000000  0800 1b00 ffffffff',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const ours = c.ours().toString('hex');
      expect(ours, 'the package\'s bytes').to.equal(c.theirs());
      expect(ours, 'the literal table').to.equal(hex(c.literal));
    });
  }

  const bad: Array<{ name: string; field: string; encode: () => Buffer }> = [
    { name: 'index 0', field: 'index', encode: () => encodeLinkDel(0) },
    { name: 'negative index', field: 'index', encode: () => encodeLinkDel(-3) },
    { name: 'index beyond int32', field: 'index', encode: () => encodeLinkSetGroup(0x80000000, GROUP) },
    { name: 'fractional index', field: 'index', encode: () => encodeLinkDel(1.5) },
    { name: 'NaN index', field: 'index', encode: () => encodeLinkDel(Number.NaN) },
    { name: 'group 0 (every link\'s default group: "del group 0" would delete them all)', field: 'group', encode: () => encodeLinkDelGroup(0) },
    { name: 'group beyond u32', field: 'group', encode: () => encodeLinkSetGroup(3, 2 ** 32) },
  ];
  for (const b of bad) {
    it(`refuses ${b.name}`, () => {
      expect(b.encode).to.throw(NetlinkInputError).with.property('field', b.field);
    });
  }
});

/** A native socket that answers from a table of errnos per request; records jobs and overlap. */
class FakeNative implements NativeRtnlSocket {
  readonly port = 1234;
  readonly jobs: string[][] = [];
  running = 0;
  maxRunning = 0;
  closed = false;
  failNext: Error | undefined;
  constructor(private readonly errnoOf: (msg: Buffer) => number = () => 0) {}
  async transact(requests: Buffer[]): Promise<number[]> {
    if (this.closed) throw Object.assign(new Error('transact: socket closed'), { errno: 9, code: 'EBADF' });
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    this.jobs.push(requests.map(what));
    try {
      await new Promise((r) => setTimeout(r, 2));
      const f = this.failNext;
      this.failNext = undefined;
      if (f) throw f;
      return requests.map(this.errnoOf);
    } finally {
      this.running--;
    }
  }
  close(): void {
    this.closed = true;
  }
}

/** "del 7", "group 7", "del group": what a request asks. */
function what(m: Buffer): string {
  const type = m.readUInt16LE(4);
  const index = m.readInt32LE(20);
  if (type === rt.MessageType.SETLINK) return `group ${index}`;
  return index === 0 ? 'del group' : `del ${index}`;
}

const ENODEV = 19;
const rejection = async (p: Promise<unknown>): Promise<NetlinkError> => p.then(() => { throw new Error('resolved'); }, (e: NetlinkError) => e);

describe('LinkDeleteSocket over the native socket', () => {
  it('an acked delete resolves; a refused one rejects like Handle.linkDel (NetlinkError, code ENODEV, op, object)', async () => {
    const s = new LinkDeleteSocket(new FakeNative((m) => (m.readInt32LE(20) === 9 ? ENODEV : 0)));
    await s.linkDel(5);
    const e = await rejection(s.linkDel(9));
    expect(e).to.be.instanceOf(NetlinkError);
    expect({ code: e.code, errno: e.errno, op: e.op, object: e.object }).to.deep.equal({ code: 'ENODEV', errno: ENODEV, op: 'link del', object: 'link #9' });
    expect(e.message).to.equal('link del link #9: ENODEV (no such device)');
  });

  it('calls made together run as jobs one after the other, in order', async () => {
    const n = new FakeNative();
    const s = new LinkDeleteSocket(n);
    await Promise.all([s.linkDel(1), s.linkSetGroups([2, 3], GROUP), s.linkDelGroup(GROUP), s.linkDel(4)]);
    expect(n.maxRunning).to.equal(1);
    expect(n.jobs).to.deep.equal([['del 1'], ['group 2', 'group 3'], ['del group'], ['del 4']]);
  });

  it('group moves: one job, the outcome per link in order; a bad index is refused before it is sent', async () => {
    const n = new FakeNative((m) => (m.readInt32LE(20) === 3 ? ENODEV : 0));
    const s = new LinkDeleteSocket(n);
    const out = await s.linkSetGroups([2, 3, -1, 4], GROUP);
    expect(n.jobs).to.deep.equal([['group 2', 'group 3', 'group 4']]);
    expect(out.map((r) => r.status)).to.deep.equal(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    const gone = (out[1] as PromiseRejectedResult).reason as NetlinkError;
    expect({ code: gone.code, op: gone.op, object: gone.object }).to.deep.equal({ code: 'ENODEV', op: 'link set group', object: 'link #3' });
    expect((out[2] as PromiseRejectedResult).reason).to.be.instanceOf(NetlinkInputError);
  });

  it('a socket failure rejects that call (every link of a group move) with its code, and the next job still runs', async () => {
    const n = new FakeNative();
    const s = new LinkDeleteSocket(n);
    n.failNext = Object.assign(new Error('recvmsg: EBADMSG (Bad message)'), { errno: 74, code: 'EBADMSG', syscall: 'recvmsg' });
    const out = await s.linkSetGroups([2, 3], GROUP);
    expect(out.map((r) => r.status === 'rejected' && (r.reason as NetlinkError).code)).to.deep.equal(['EBADMSG', 'EBADMSG']);
    await s.linkDel(2);
  });

  it('an unknown errno keeps its number as the code; a group delete names the group', async () => {
    const s = new LinkDeleteSocket(new FakeNative(() => 4095));
    const e = await rejection(s.linkDelGroup(GROUP));
    expect({ code: e.code, errno: e.errno, op: e.op, object: e.object }).to.deep.equal({ code: '4095', errno: 4095, op: 'link del group', object: `group ${GROUP}` });
  });

  it('after close, calls reject with EBADF', async () => {
    const n = new FakeNative();
    const s = new LinkDeleteSocket(n);
    s.close();
    expect((await rejection(s.linkDel(1))).code).to.equal('EBADF');
  });
});
