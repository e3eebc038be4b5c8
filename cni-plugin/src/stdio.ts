/**
 * The plugin's stdin and stdout, through whichever runtime runs it.
 *
 * Under Bun (the artifact deploy/ installs) both go through Bun's own file
 * API: in a Bun executable, loading the `node:fs` layer costs more than
 * reading stdin and writing stdout themselves (median exec of a compiled
 * program, 200 interleaved rounds: bare exit 3.6 ms, with one
 * `fs.readSync(0)` 5.0 ms, with `Bun.stdin.text()` 4.2 ms, with
 * `Bun.write(Bun.stdout)` 3.6 ms). Under node (the checkout script,
 * bin/knit) they are synchronous reads and writes on fds 0 and 1; touching
 * `process.stdout` on a pipe would load the net and stream machinery for
 * nothing. `node:fs` is required in that path only, so the Bun build never
 * loads it.
 */
import type * as FsModule from 'node:fs';

/** The plugin's two streams. */
export interface PluginStdio {
  /** the whole of stdin as UTF-8 */
  readStdin(): Promise<string>;
  /** all of `text` on stdout */
  writeStdout(text: string): Promise<void>;
}

/** The part of Bun's runtime used here. */
interface BunFileApi {
  stdin: { text(): Promise<string> };
  stdout: object;
  write(destination: object, data: string): Promise<number>;
}

/** The stdio of the running process. */
export function processStdio(): PluginStdio {
  const bun = (globalThis as { Bun?: BunFileApi }).Bun;
  if (bun !== undefined) {
    return {
      readStdin: () => bun.stdin.text(),
      writeStdout: async (text) => { await bun.write(bun.stdout, text); },
    };
  }
  return {
    readStdin: async () => readAllSync(0),
    writeStdout: async (text) => writeAllSync(text),
  };
}

function nodeFs(): typeof FsModule {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return require('node:fs') as typeof FsModule;
}

/** Sleeps synchronously: used only to wait out EAGAIN on a non-blocking fd. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Reads fd 0 to the end. Runtimes give a blocking pipe, but a parent that
 * made the pipe non-blocking (Node's own child_process does) makes readSync
 * fail with EAGAIN until data arrives; that case waits briefly and retries.
 */
function readAllSync(fd: number): string {
  const fs = nodeFs();
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
  const fs = nodeFs();
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
