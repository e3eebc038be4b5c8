/**
 * Fakes for the BGP session tests (the clock is test/support/fake-clock): an in-memory connection
 * that records what the session wrote and lets the test play the peer with
 * knit's codec, and a dialer the test resolves by hand.
 */
import {
  BgpDecodeError, decodeMessage, encodeMessage, MessageSplitter,
  type BgpMessage, type CodecContext, type OpenMessage,
} from '../../agent/src/bgp/codec';
import type { BgpConn, DialTarget, Dialer } from '../../agent/src/bgp/conn';

export { FakeClock } from '../support/fake-clock';

/** An in-memory connection; the test is the peer. */
export class FakeConn implements BgpConn {
  readonly written: Buffer[] = [];
  ended = false;
  destroyed = false;
  private dataCb: ((b: Buffer) => void) | undefined;
  private closeCbs: ((err?: Error) => void)[] = [];
  private splitter = new MessageSplitter();
  /** What the test reads with `received`, decoded with this context. */
  ctx: CodecContext = { fourOctetAs: true };
  private readIndex = 0;
  /** TTLs the session set on this connection, in order. */
  readonly ttls: number[] = [];

  constructor(readonly remoteAddress = '10.0.0.2', readonly remotePort = 179, readonly localAddress = '10.0.0.1') {}

  setTtl(ttl: number): void {
    this.ttls.push(ttl);
  }

  write(buf: Buffer): void {
    if (this.ended || this.destroyed) return;
    this.written.push(buf);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.fireClose();
  }

  destroy(): void {
    this.destroyed = true;
    this.fireClose();
  }

  onData(cb: (chunk: Buffer) => void): void {
    this.dataCb = cb;
  }

  onClose(cb: (err?: Error) => void): void {
    this.closeCbs.push(cb);
  }

  private fireClose(): void {
    const cbs = this.closeCbs.splice(0);
    for (const cb of cbs) cb();
  }

  /** The peer sends a message. */
  send(msg: BgpMessage, ctx: CodecContext = this.ctx): void {
    this.sendRaw(encodeMessage(msg, ctx));
  }

  sendRaw(buf: Buffer): void {
    this.dataCb?.(buf);
  }

  /** The peer closes the TCP connection. */
  closeFromPeer(): void {
    this.fireClose();
  }

  /** Messages the session wrote since the last call, decoded. */
  received(): BgpMessage[] {
    const out: BgpMessage[] = [];
    for (; this.readIndex < this.written.length; this.readIndex++) {
      for (const item of this.splitter.push(this.written[this.readIndex])) {
        if (item instanceof BgpDecodeError) throw item;
        const m = decodeMessage(item, this.ctx);
        if (m instanceof BgpDecodeError) throw m;
        out.push(m);
      }
    }
    return out;
  }
}

/** A dialer whose attempts the test resolves or rejects. */
export class FakeDialer {
  readonly attempts: { target: DialTarget; resolve: (c: BgpConn) => void; reject: (e: Error) => void }[] = [];
  readonly dial: Dialer = (target) => new Promise((resolve, reject) => {
    this.attempts.push({ target, resolve, reject });
  });
}

/** Lets promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** An OPEN as a peer would send it. */
export function peerOpen(over: Partial<OpenMessage> = {}, caps?: OpenMessage['capabilityParams']): OpenMessage {
  const asn = over.asn ?? 65000;
  return {
    type: 'open', version: 4, asn, holdTime: 90, bgpId: '10.0.0.2',
    capabilityParams: caps ?? [[
      { kind: 'multiprotocol', afi: 1, safi: 1 }, { kind: 'multiprotocol', afi: 2, safi: 1 },
      { kind: 'four-octet-as', asn }, { kind: 'route-refresh' },
    ]],
    ...over,
  };
}
