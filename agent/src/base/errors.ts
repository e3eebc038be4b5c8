/**
 * Reading errors: the chain of causes as text, and errno-style codes
 * recognised by a type guard instead of casts at every call site.
 */

/** The messages of `err` and its causes, outermost first (at most `depth`). Non-Error values are stringified. */
export function causeMessages(err: unknown, depth = 8): string[] {
  const parts: string[] = [];
  let e: unknown = err;
  for (let i = 0; i < depth && e !== undefined && e !== null; i++) {
    parts.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts;
}

/** "outer: cause: root cause" — one line for logs and CLI errors. */
export function describeError(err: unknown, depth = 6): string {
  return causeMessages(err, depth).join(': ');
}

/** The message of an unknown thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** An unknown thrown value as an Error (wrapping non-Errors). */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** The string errno-style code of a thrown Error (ENOENT, EEXIST …), or undefined. */
export function errorCode(err: unknown): string | undefined {
  return hasErrorCode(err) ? err.code : undefined;
}

/** An error carrying a string errno-style code (Node's system errors, NetlinkError, the netns addon). */
export interface CodedError extends Error {
  code: string;
}

/** True when `err` is an Error with a string `code`, and (if any are given) one of `codes`. */
export function hasErrorCode(err: unknown, ...codes: string[]): err is CodedError {
  if (!(err instanceof Error)) return false;
  const code = (err as Partial<CodedError>).code;
  return typeof code === 'string' && (codes.length === 0 || codes.includes(code));
}
