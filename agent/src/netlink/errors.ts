/**
 * Errors of the netlink layer, typed once at the boundary.
 *
 * The `netlink` package rejects with `Error("Request rejected: EEXIST")`: no
 * errno, no operation, no object. Every request of this layer goes through
 * `toNetlinkError`, so callers can branch on `err.code === 'EEXIST'` and read
 * which operation on which object failed.
 */
import { constants as osConstants } from 'node:os';
import { getSystemErrorMap } from 'node:util';

/** Kernel error codes callers commonly branch on; any other errno name may appear too. */
export type NetlinkErrorCode =
  | 'EEXIST' | 'ENOENT' | 'ENODEV' | 'EBUSY' | 'EOPNOTSUPP' | 'EINVAL' | 'EPERM'
  | 'ENETUNREACH' | 'EADDRNOTAVAIL' | 'ESRCH' | 'ENOBUFS' | 'ETIMEDOUT' | (string & {});

/** A failed kernel (or namespace) operation: errno, code, what was done, to what. */
export class NetlinkError extends Error {
  override readonly name = 'NetlinkError';
  /** positive errno, e.g. 17 */
  readonly errno: number;
  /** errno name, e.g. 'EEXIST' */
  readonly code: NetlinkErrorCode;
  /** the operation, e.g. 'link add', 'route replace' */
  readonly op: string;
  /** the object, e.g. 'vxlan knit.1', 'route 10.244.2.0/24' */
  readonly object: string;

  constructor(opts: { errno: number; code: string; op: string; object: string; detail?: string; cause?: unknown }) {
    const text = describeErrno(opts.errno);
    super(
      `${opts.op} ${opts.object}: ${opts.code}${text ? ` (${text})` : ''}${opts.detail ? `: ${opts.detail}` : ''}`,
      { cause: opts.cause },
    );
    this.errno = opts.errno;
    this.code = opts.code;
    this.op = opts.op;
    this.object = opts.object;
  }
}

/** A bad argument, caught before the kernel sees it. `field` names the offending input. */
export class NetlinkInputError extends Error {
  override readonly name = 'NetlinkInputError';
  readonly code = 'EINVAL';
  constructor(readonly field: string, readonly value: unknown, reason: string) {
    super(`invalid ${field} ${JSON.stringify(value)}: ${reason}`);
  }
}

const errnoByName = osConstants.errno as Record<string, number>;

function describeErrno(errno: number): string | undefined {
  if (!nameByErrno.has(errno)) return undefined; // not an OS errno (libuv's own codes share the map)
  const entry = getSystemErrorMap().get(-errno);
  return entry?.[1];
}

/** errno number for an errno name, 0 when unknown. */
export function errnoOf(code: string): number {
  return errnoByName[code] ?? 0;
}

const REJECTED = /^Request rejected: (\w+)$/;

// Linux has one errno (95) with two names; Node reports ENOTSUP, rtnetlink
// documentation and iproute2 say EOPNOTSUPP. Callers match one name.
const ALIASES: Record<string, string> = { ENOTSUP: 'EOPNOTSUPP' };

/**
 * Convert whatever a request threw into a NetlinkError naming `op` and
 * `object`. Package rejections ("Request rejected: EEXIST"), socket errors
 * (ErrnoException with errno/code) and addon errors are recognised; anything
 * else is wrapped with code 'EUNKNOWN' and kept as the cause.
 */
export function toNetlinkError(err: unknown, op: string, object: string, detail?: string): NetlinkError {
  if (err instanceof NetlinkError) return err;
  if (err instanceof Error) {
    const m = REJECTED.exec(err.message);
    if (m) {
      const name = ALIASES[m[1]] ?? m[1];
      // the package falls back to the decimal errno when it has no name for it
      const errno = /^\d+$/.test(name) ? Number(name) : errnoOf(name);
      return new NetlinkError({ errno, code: name, op, object, detail, cause: err });
    }
    const e = err as Error & { errno?: unknown; code?: unknown };
    if (typeof e.code === 'string' && /^E[A-Z0-9]+$/.test(e.code)) {
      const errno = typeof e.errno === 'number' ? Math.abs(e.errno) : errnoOf(e.code);
      const code = ALIASES[e.code] ?? e.code;
      return new NetlinkError({ errno, code, op, object, detail: detail ?? e.message, cause: err });
    }
  }
  return new NetlinkError({ errno: 0, code: 'EUNKNOWN', op, object, detail: detail ?? String(err), cause: err });
}

/**
 * The NetlinkError for a kernel refusal known only by its errno (an
 * NLMSG_ERROR read by the native addon): the same code a package rejection
 * of that errno gets, or the decimal errno when Node has no name for it.
 */
export function errnoToNetlinkError(errno: number, op: string, object: string): NetlinkError {
  return new NetlinkError({ errno, code: errnoName(errno), op, object });
}

/** The name of a kernel errno (EEXIST), as the `netlink` package names its rejections; the decimal number when the OS has none. */
export function errnoName(errno: number): string {
  return nameByErrno.get(errno) ?? String(errno);
}

/**
 * errno → name, from the OS's errno table (not getSystemErrorMap, which also
 * holds libuv's own codes: 4095 there is UV_EOF, not a kernel errno).
 */
const nameByErrno = new Map<number, string>();
for (const [name, n] of Object.entries(errnoByName)) {
  // one name per number: the alias callers match (EOPNOTSUPP), else the first listed (EAGAIN before EWOULDBLOCK)
  if (ALIASES[name] !== undefined) nameByErrno.set(n, ALIASES[name]);
  else if (!nameByErrno.has(n)) nameByErrno.set(n, name);
}

/** True for a NetlinkError with one of the given codes. */
export function isNetlinkError(err: unknown, ...codes: string[]): err is NetlinkError {
  return err instanceof NetlinkError && (codes.length === 0 || codes.includes(err.code));
}
