/**
 * Capabilities inside the OPEN's Capabilities optional parameter (RFC 5492):
 * code (1), length (1), value. knit interprets multiprotocol, route refresh,
 * 4-octet AS and graceful restart; every other capability, and a known one
 * whose value has an impossible length, is kept as raw bytes so the session
 * can ignore it and a re-encode reproduces it exactly.
 */
import { CapabilityCode } from './constants';
import type { Capability, GracefulRestartFamily } from './types';

/** Result of reading one parameter's capabilities. */
export type CapabilitiesResult = { ok: true; capabilities: Capability[] } | { ok: false; reason: string };

function decodeOne(code: number, value: Buffer): Capability {
  switch (code) {
    case CapabilityCode.MULTIPROTOCOL:
      if (value.length === 4) return { kind: 'multiprotocol', afi: value.readUInt16BE(0), safi: value[3] };
      break;
    case CapabilityCode.ROUTE_REFRESH:
      if (value.length === 0) return { kind: 'route-refresh' };
      break;
    case CapabilityCode.FOUR_OCTET_AS:
      if (value.length === 4) return { kind: 'four-octet-as', asn: value.readUInt32BE(0) };
      break;
    case CapabilityCode.GRACEFUL_RESTART:
      if (value.length >= 2 && (value.length - 2) % 4 === 0) {
        const word = value.readUInt16BE(0);
        const families: GracefulRestartFamily[] = [];
        for (let pos = 2; pos < value.length; pos += 4) {
          families.push({ afi: value.readUInt16BE(pos), safi: value[pos + 2], forwardingPreserved: (value[pos + 3] & 0x80) !== 0 });
        }
        // Reserved bits (the two low flag bits, the low 7 bits of each family's flags) are
        // not modelled; keep the capability raw if a peer sets them so re-encoding stays exact.
        const reservedSet = (word & 0x3000) !== 0 || families.some((_, i) => (value[2 + i * 4 + 3] & 0x7f) !== 0);
        if (!reservedSet) {
          return {
            kind: 'graceful-restart',
            restarting: (word & 0x8000) !== 0,
            notification: (word & 0x4000) !== 0,
            restartTime: word & 0x0fff,
            families,
          };
        }
      }
      break;
    default:
      break;
  }
  return { kind: 'unknown', code, value: Buffer.from(value) };
}

/** Reads the capabilities of one Capabilities parameter value, buf[start, end). Never throws. */
export function decodeCapabilities(buf: Buffer, start: number, end: number): CapabilitiesResult {
  const capabilities: Capability[] = [];
  let pos = start;
  while (pos < end) {
    if (pos + 2 > end) return { ok: false, reason: 'truncated capability header' };
    const code = buf[pos];
    const len = buf[pos + 1];
    if (pos + 2 + len > end) return { ok: false, reason: `capability ${code} of length ${len} overruns its parameter` };
    capabilities.push(decodeOne(code, buf.subarray(pos + 2, pos + 2 + len)));
    pos += 2 + len;
  }
  return { ok: true, capabilities };
}

function tlv(code: number, value: Buffer): Buffer {
  if (value.length > 255) throw new RangeError(`capability ${code} value of ${value.length} octets exceeds 255`);
  return Buffer.concat([Buffer.from([code, value.length]), value]);
}

/** Encodes one capability as code, length, value. */
export function encodeCapability(cap: Capability): Buffer {
  switch (cap.kind) {
    case 'multiprotocol': {
      const v = Buffer.alloc(4);
      v.writeUInt16BE(cap.afi, 0);
      v[3] = cap.safi;
      return tlv(CapabilityCode.MULTIPROTOCOL, v);
    }
    case 'route-refresh':
      return tlv(CapabilityCode.ROUTE_REFRESH, Buffer.alloc(0));
    case 'four-octet-as': {
      const v = Buffer.alloc(4);
      v.writeUInt32BE(cap.asn >>> 0, 0);
      return tlv(CapabilityCode.FOUR_OCTET_AS, v);
    }
    case 'graceful-restart': {
      if (!Number.isInteger(cap.restartTime) || cap.restartTime < 0 || cap.restartTime > 0x0fff) {
        throw new RangeError(`graceful restart time ${cap.restartTime} outside 0..4095`);
      }
      const v = Buffer.alloc(2 + 4 * cap.families.length);
      v.writeUInt16BE((cap.restarting ? 0x8000 : 0) | (cap.notification ? 0x4000 : 0) | cap.restartTime, 0);
      cap.families.forEach((f, i) => {
        v.writeUInt16BE(f.afi, 2 + i * 4);
        v[2 + i * 4 + 2] = f.safi;
        v[2 + i * 4 + 3] = f.forwardingPreserved ? 0x80 : 0;
      });
      return tlv(CapabilityCode.GRACEFUL_RESTART, v);
    }
    case 'unknown':
      return tlv(cap.code, cap.value);
  }
}

/** Finds the first capability of a kind across all parameters of an OPEN. */
export function findCapability<K extends Capability['kind']>(
  params: readonly (readonly Capability[])[],
  kind: K,
): Extract<Capability, { kind: K }> | undefined {
  for (const group of params) {
    for (const cap of group) if (cap.kind === kind) return cap as Extract<Capability, { kind: K }>;
  }
  return undefined;
}
