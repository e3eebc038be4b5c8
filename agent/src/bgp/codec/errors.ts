/**
 * Decode errors as values. The decoder never throws on input bytes: it
 * returns a BgpDecodeError saying which NOTIFICATION code/subcode/data the
 * RFCs assign and which RFC 7606 action the session must take.
 */
import { ErrorCode, UpdateErrorSubcode } from './constants';
import type { Prefix, UpdateMessage } from './types';

/**
 * What the session does with an error (RFC 7606 §2):
 * - session-reset: send a NOTIFICATION with code/subcode/data and close;
 * - treat-as-withdraw: withdraw every prefix the UPDATE carried (`withdrawn`), keep the session;
 * - attribute-discard: drop the bad attribute and process `update` as usual.
 */
export type ErrorAction = 'session-reset' | 'treat-as-withdraw' | 'attribute-discard';

const SEVERITY: Record<ErrorAction, number> = {
  'attribute-discard': 1,
  'treat-as-withdraw': 2,
  'session-reset': 3,
};

/** A decoding failure, returned (not thrown) by every decoder of this module. */
export class BgpDecodeError extends Error {
  /** NOTIFICATION error code (ErrorCode). */
  readonly code: number;
  /** NOTIFICATION error subcode. */
  readonly subcode: number;
  /** NOTIFICATION data field as RFC 4271 §6 specifies for this error. */
  readonly data: Buffer;
  readonly action: ErrorAction;
  /**
   * For treat-as-withdraw: every prefix the UPDATE announced or withdrew
   * (NLRI, Withdrawn Routes, MP_REACH and MP_UNREACH), all to be withdrawn.
   */
  withdrawn: Prefix[] = [];
  /** For attribute-discard: the UPDATE without the discarded attributes, to process as usual. */
  update?: UpdateMessage;
  /** Less severe errors met in the same UPDATE (for logging). */
  readonly others: BgpDecodeError[] = [];

  constructor(code: number, subcode: number, data: Buffer, action: ErrorAction, reason: string) {
    super(`BGP ${action} ${code}/${subcode}: ${reason}`);
    this.name = 'BgpDecodeError';
    this.code = code;
    this.subcode = subcode;
    this.data = data;
    this.action = action;
  }

  /** True when this error is more severe than `other` (RFC 7606 §3: the strongest action wins). */
  outranks(other: BgpDecodeError): boolean {
    return SEVERITY[this.action] > SEVERITY[other.action];
  }
}

/** Shorthand for a session-reset error. */
export function resetError(code: number, subcode: number, data: Buffer, reason: string): BgpDecodeError {
  return new BgpDecodeError(code, subcode, data, 'session-reset', reason);
}

/** UPDATE error with the given action. */
export function updateError(subcode: number, data: Buffer, action: ErrorAction, reason: string): BgpDecodeError {
  return new BgpDecodeError(ErrorCode.UPDATE_MESSAGE, subcode, data, action, reason);
}

/** 3/1 Malformed Attribute List, session reset. */
export function malformedAttributeList(reason: string): BgpDecodeError {
  return updateError(UpdateErrorSubcode.MALFORMED_ATTRIBUTE_LIST, Buffer.alloc(0), 'session-reset', reason);
}

/** Type guard for results of the decoders. */
export function isDecodeError(value: unknown): value is BgpDecodeError {
  return value instanceof BgpDecodeError;
}
