/**
 * The one error type knitd's CNI service turns into a spec-coded reply.
 * Handlers throw `CniError` for what the runtime should see as a specific
 * code (3 unknown container, 7 bad config, 11 try again, 50/51 STATUS…);
 * anything else they throw is reported as code 100 (knit's "internal").
 */
import { causeMessages } from '../base';
import { CniErrorCode } from '../../../cni-wire/protocol';
import type { CniErrorBody } from '../../../cni-wire/protocol';

export { CniErrorCode };

/** A failure with a CNI error code, as SPEC.md "Error" defines it. */
export class CniError extends Error {
  /** the CNI error code: 1–99 as the spec reserves them, 100+ knit's own */
  readonly code: number;
  /** the longer, optional explanation printed as `details` */
  readonly details?: string;

  constructor(code: number, msg: string, options?: { details?: string; cause?: unknown }) {
    super(msg, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CniError';
    this.code = code;
    if (options?.details !== undefined) this.details = options.details;
  }

  /** The error as the runtime reads it on stdout, in the request's `cniVersion`. */
  toErrorBody(cniVersion: string): CniErrorBody {
    const body: CniErrorBody = { cniVersion, code: this.code, msg: this.message };
    if (this.details !== undefined) body.details = this.details;
    return body;
  }
}

/**
 * Any thrown value as a CniError: a CniError stays as it is; anything else
 * becomes code 100 with its message, and the chain of causes as details so
 * the runtime's log shows why (e.g. "create veth: … <- EEXIST").
 */
export function toCniError(e: unknown): CniError {
  if (e instanceof CniError) return e;
  if (e instanceof Error) {
    const causes = causeMessages(e.cause, 5);
    return new CniError(CniErrorCode.Internal, e.message, causes.length > 0 ? { details: `caused by: ${causes.join(' <- ')}`, cause: e } : { cause: e });
  }
  return new CniError(CniErrorCode.Internal, String(e));
}
