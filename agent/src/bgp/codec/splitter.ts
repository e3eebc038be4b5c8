/**
 * Cuts a TCP byte stream into whole BGP messages. Pure: the session feeds it
 * whatever chunks the socket delivers and gets back complete messages, or a
 * header error after which the stream is unusable (RFC 4271 §6.1: the
 * session must be reset) and the splitter yields nothing more.
 */
import { HEADER_LENGTH } from './constants';
import { BgpDecodeError } from './errors';
import { checkHeader } from './header';

/** Splits a byte stream into messages, validating each header as soon as it is complete. */
export class MessageSplitter {
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private failed: BgpDecodeError | undefined;

  /**
   * Adds a chunk and returns the messages it completed (each a Buffer with
   * its header), followed by a BgpDecodeError if a bad header was met. After
   * an error every later push returns that same error and nothing else.
   */
  push(chunk: Buffer): (Buffer | BgpDecodeError)[] {
    if (this.failed) return [this.failed];
    if (chunk.length > 0) {
      this.pending.push(chunk);
      this.pendingLength += chunk.length;
    }
    const out: (Buffer | BgpDecodeError)[] = [];
    if (this.pendingLength < HEADER_LENGTH) return out;
    let buf = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingLength);
    let pos = 0;
    while (buf.length - pos >= HEADER_LENGTH) {
      const header = checkHeader(buf.subarray(pos, pos + HEADER_LENGTH));
      if (header instanceof BgpDecodeError) {
        this.failed = header;
        this.pending = [];
        this.pendingLength = 0;
        out.push(header);
        return out;
      }
      if (buf.length - pos < header.length) break;
      // Copy so a caller holding a message does not pin the whole chunk.
      out.push(Buffer.from(buf.subarray(pos, pos + header.length)));
      pos += header.length;
    }
    buf = buf.subarray(pos);
    this.pending = buf.length > 0 ? [buf] : [];
    this.pendingLength = buf.length;
    return out;
  }

  /** Octets received but not yet part of a whole message. */
  get buffered(): number {
    return this.pendingLength;
  }

  /** The header error that stopped the stream, if any. */
  get error(): BgpDecodeError | undefined {
    return this.failed;
  }
}
