/**
 * The `knit` CNI plugin: what a container runtime execs from its CNI bin dir.
 *
 * It is deliberately thin (see docs: node start-up already costs ~25 ms):
 * answer VERSION and malformed invocations locally, forward everything else
 * to knitd over a unix socket, print knitd's answer. Only Node built-ins are
 * loaded, and `node:net` only when forwarding. Output goes through
 * fs.writeSync on fd 1: touching `process.stdout` on a pipe would load the
 * net and stream machinery for nothing.
 */
import * as fs from 'node:fs';
import { CniErrorCode } from '../../cni-wire/protocol';
import { forward } from './forward';
import { errorText, prepare } from './request';
import { NEWEST_VERSION, SUPPORTED_VERSIONS } from '../../cni-wire/spec';
import type { PluginEnv } from './request';

/** Default time knitd gets to answer; a runtime's own CNI timeout is usually longer. */
export const DEFAULT_TIMEOUT_MS = 60_000;

/** The outside world of one invocation, injected so tests can run it in-process. */
export interface PluginIo {
  env: PluginEnv;
  /** the whole of stdin as UTF-8 */
  readStdin(): string;
  writeStdout(text: string): void;
}

/** Runs one invocation and returns the process exit code (0 or 1). */
export async function run(io: PluginIo): Promise<number> {
  const prepared = prepare(io.env, io.readStdin);
  if (prepared.kind === 'done') {
    io.writeStdout(prepared.stdout);
    return prepared.exitCode;
  }
  const { request, socketPath, cniVersion } = prepared;
  const outcome = await forward(request, socketPath, timeoutFrom(io.env));
  if (!outcome.ok) {
    const msg = outcome.reason === 'unreachable' ? `knitd unreachable at ${socketPath}: ${outcome.cause}` : `bad reply from knitd at ${socketPath}: ${outcome.cause}`;
    // Unreachable means "try again later" to a runtime, except for STATUS,
    // whose own code for "cannot serve ADD now" is 50.
    const code = request.command === 'STATUS' ? CniErrorCode.NotAvailable : outcome.reason === 'unreachable' ? CniErrorCode.TryAgainLater : CniErrorCode.DecodeFailure;
    io.writeStdout(errorText(cniVersion, code, msg));
    return 1;
  }
  const reply = outcome.reply;
  if (!reply.ok) {
    io.writeStdout(JSON.stringify(reply.error) + '\n');
    return 1;
  }
  if (reply.result !== undefined) io.writeStdout(JSON.stringify(reply.result) + '\n');
  return 0;
}

/** KNIT_PLUGIN_TIMEOUT_MS when it is a positive integer, else the default. */
export function timeoutFrom(env: PluginEnv): number {
  const v = Number(env.KNIT_PLUGIN_TIMEOUT_MS);
  return Number.isInteger(v) && v > 0 ? v : DEFAULT_TIMEOUT_MS;
}

/** Sleeps synchronously: used only to wait out EAGAIN on a non-blocking stdin. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Reads fd 0 to the end. Runtimes give a blocking pipe, but a parent that
 * made the pipe non-blocking (Node's own child_process does) makes readSync
 * fail with EAGAIN until data arrives; that case waits briefly and retries.
 */
export function readAllSync(fd: number): string {
  const chunks: Buffer[] = [];
  const buf = Buffer.allocUnsafe(65536);
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        sleepSync(1);
        continue;
      }
      if (code === 'EOF') break;
      throw e;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Writes all of `text` to fd 1, riding out EAGAIN on a non-blocking pipe. */
function writeAllSync(text: string): void {
  const data = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < data.length) {
    try {
      off += fs.writeSync(1, data, off, data.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      sleepSync(1);
    }
  }
}

/**
 * What a person (not a runtime) gets from `knit --help` or `knit --version`
 * when CNI_COMMAND is unset: runtimes never pass arguments, so this cannot
 * change what a runtime sees.
 */
export function aboutText(version: string): string {
  return [
    `knit CNI plugin ${version} (CNI spec versions ${SUPPORTED_VERSIONS.join(', ')})`,
    '',
    'A container runtime runs it with CNI_COMMAND (ADD, DEL, CHECK, VERSION, STATUS, GC),',
    'the CNI_* variables and the network config on stdin; it forwards each request to',
    'knitd over the unix socket named by "agentSocket" in the config (default',
    '/run/knit/cni.sock) and prints knitd\'s answer. See deploy/cni/README.md.',
    '',
  ].join('\n');
}

/** knit's version when run from a checkout (dist/ next to package.json); "unknown" in a single-file build. */
function knitVersion(): string {
  try {
    // A plain require of the agent's version module: the single-file builds do not carry it.
    const mod = require(`${__dirname}/../../agent/src/base/version.js`) as { KNIT_VERSION?: string };
    return mod.KNIT_VERSION ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Entry point used by bin/knit: real environment, stdin and stdout. */
export function main(argv: readonly string[] = process.argv.slice(2)): void {
  if ((process.env.CNI_COMMAND ?? '') === '' && argv.some((a) => a === '--help' || a === '-h' || a === '--version')) {
    writeAllSync(aboutText(knitVersion()));
    process.exit(0);
  }
  const io: PluginIo = { env: process.env, readStdin: () => readAllSync(0), writeStdout: writeAllSync };
  run(io).then(
    (code) => process.exit(code),
    (e: unknown) => {
      // A bug in the plugin itself: still answer in the spec's shape.
      writeAllSync(errorText(NEWEST_VERSION, CniErrorCode.Internal, `knit plugin failed: ${e instanceof Error ? e.message : String(e)}`));
      process.exit(1);
    },
  );
}
