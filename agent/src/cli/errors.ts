/**
 * knitctl's error types, in a file of their own so main.ts can recognise
 * them with instanceof without loading grpc-js (client.ts is loaded only by
 * commands that talk gRPC).
 */

/** knitd could not be reached (exit status 3). */
export class ConnectError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConnectError';
  }
}

/** knitd answered with a non-OK status (exit status 1). */
export class CallError extends Error {
  /**
   * `statusName`: the gRPC status code's name (client.ts's callError fills it
   * in); `explained`: what went wrong and what to do, replacing the raw text.
   */
  constructor(readonly code: number, readonly details: string, statusName: string, explained?: string) {
    super(explained ?? `${statusName}: ${details}`);
    this.name = 'CallError';
  }
}
