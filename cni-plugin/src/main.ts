/**
 * The `knit` CNI plugin: what a container runtime execs from its CNI bin dir.
 *
 * It is deliberately thin: answer VERSION and malformed invocations locally,
 * forward everything else to knitd over a unix socket, print knitd's answer.
 * Only the runtime's built-ins are loaded, the socket client only when
 * forwarding; stdin and stdout go through stdio.ts.
 */
import { CniErrorCode } from '../../cni-wire/protocol';
import { forward } from './forward';
import { errorText, prepare } from './request';
import { NEWEST_VERSION, SUPPORTED_VERSIONS } from '../../cni-wire/spec';
import type { PluginEnv } from './request';
import { processStdio, type PluginStdio } from './stdio';

/** Default time knitd gets to answer; a runtime's own CNI timeout is usually longer. */
export const DEFAULT_TIMEOUT_MS = 60_000;

/** The outside world of one invocation, injected so tests can run it in-process. */
export interface PluginIo extends PluginStdio {
  env: PluginEnv;
}

/**
 * Runs one invocation and returns the process exit code (0 or 1). stdin is
 * read before `prepare` decides (the runtimes' reads are asynchronous), and
 * not at all without CNI_COMMAND, as `prepare` promises.
 */
export async function run(io: PluginIo): Promise<number> {
  let stdin: { text: string } | { error: unknown } = { text: '' };
  if ((io.env.CNI_COMMAND ?? '') !== '') stdin = await io.readStdin().then((text) => ({ text }), (error: unknown) => ({ error }));
  const prepared = prepare(io.env, () => {
    if ('error' in stdin) throw stdin.error;
    return stdin.text;
  });
  if (prepared.kind === 'done') {
    await io.writeStdout(prepared.stdout);
    return prepared.exitCode;
  }
  const { request, socketPath, cniVersion } = prepared;
  const outcome = await forward(request, socketPath, timeoutFrom(io.env));
  if (!outcome.ok) {
    const msg = outcome.reason === 'unreachable' ? `knitd unreachable at ${socketPath}: ${outcome.cause}` : `bad reply from knitd at ${socketPath}: ${outcome.cause}`;
    // Unreachable means "try again later" to a runtime, except for STATUS,
    // whose own code for "cannot serve ADD now" is 50.
    const code = request.command === 'STATUS' ? CniErrorCode.NotAvailable : outcome.reason === 'unreachable' ? CniErrorCode.TryAgainLater : CniErrorCode.DecodeFailure;
    await io.writeStdout(errorText(cniVersion, code, msg));
    return 1;
  }
  const reply = outcome.reply;
  if (!reply.ok) {
    await io.writeStdout(JSON.stringify(reply.error) + '\n');
    return 1;
  }
  if (reply.result !== undefined) await io.writeStdout(JSON.stringify(reply.result) + '\n');
  return 0;
}

/** KNIT_PLUGIN_TIMEOUT_MS when it is a positive integer, else the default. */
export function timeoutFrom(env: PluginEnv): number {
  const v = Number(env.KNIT_PLUGIN_TIMEOUT_MS);
  return Number.isInteger(v) && v > 0 ? v : DEFAULT_TIMEOUT_MS;
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

/** Entry point used by bin/knit and the artifact: real environment, stdin and stdout. */
export function main(argv: readonly string[] = process.argv.slice(2)): void {
  const stdio = processStdio();
  if ((process.env.CNI_COMMAND ?? '') === '' && argv.some((a) => a === '--help' || a === '-h' || a === '--version')) {
    void stdio.writeStdout(aboutText(knitVersion())).finally(() => process.exit(0));
    return;
  }
  run({ env: process.env, ...stdio }).then(
    (code) => process.exit(code),
    async (e: unknown) => {
      // A bug in the plugin itself: still answer in the spec's shape.
      await stdio.writeStdout(errorText(NEWEST_VERSION, CniErrorCode.Internal, `knit plugin failed: ${e instanceof Error ? e.message : String(e)}`)).catch(() => undefined);
      process.exit(1);
    },
  );
}
