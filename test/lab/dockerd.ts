/**
 * A real dockerd (Debian's docker.io 20.10) per lab node, for the Docker
 * driver tests. Each runs inside its node's network namespace (entered with
 * nsenter: `ip netns exec` remounts /sys and hides the cgroup v1 mounts) and
 * in a private mount namespace where a per-node directory is bind-mounted
 * over /etc/docker (plugin .spec files) and /run/docker/plugins, so each
 * dockerd finds only its own node's knitd. A holder process keeps that mount
 * namespace alive, and a restarted dockerd enters the same one: the
 * containers' netns bind mounts (under its exec root) survive the restart,
 * as they do on a real host. Own data root (vfs), exec root,
 * API socket and pid file under a short per-node directory; no iptables, no
 * docker0 (knit owns the forwarding rules). Killed by PID, directories
 * removed, even when a test fails.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync, copyFileSync, openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LabNode } from './lab';
import { RUN_PREFIX } from './netns';

const execFileP = promisify(execFile);

/** The 20.10 client (another docker client on PATH may be a different version). */
export const DOCKER_CLI = '/usr/bin/docker';
export const DOCKERD = '/usr/sbin/dockerd';
/** The test image, imported from Debian's busybox-static. */
export const BUSYBOX_IMAGE = 'knit-busybox:lab';

export interface LabDockerd {
  node: LabNode;
  dir: string;
  /** dockerd's API socket */
  socket: string;
  /** where the node's knitd must serve the plugin (its .spec file points there) */
  pluginSocket: string;
  pid: number;
  logPath: string;
  /** /usr/bin/docker -H <socket> args…; rejects with stderr on a non-zero exit */
  docker(args: string[], timeoutMs?: number): Promise<string>;
  /** Like docker() but resolves with the exit code and both streams. */
  dockerRun(args: string[], timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  /** SIGTERM and wait (live-restore keeps containers running). */
  stop(): Promise<void>;
  /** Start again on the same directories; resolves when the API answers. */
  restart(): Promise<void>;
  /** Stop, kill leftover containers' shims, unmount and remove everything. */
  destroy(): Promise<void>;
}

const started: LabDockerd[] = [];

/**
 * A short per-run path under /tmp for a dockerd's directory or a plugin
 * socket: the lab's run prefix (KNIT_LAB_PREFIX shows there too) and the
 * whole pid, so parallel runs never share one. Short because dockerd's
 * sockets live below it (a unix socket path has at most 107 bytes).
 */
export function labDockerPath(tag: string): string {
  return `/tmp/${RUN_PREFIX}-${process.pid}-${tag}`;
}

/** Every dockerd started by this process (for teardown after a failed test). */
export function startedDockerds(): readonly LabDockerd[] {
  return started;
}

function dockerdArgs(dir: string, socket: string): string[] {
  return [
    `--data-root=${join(dir, 'data')}`, `--exec-root=${join(dir, 'x')}`, `--host=unix://${socket}`, `--pidfile=${join(dir, 'dockerd.pid')}`,
    '--storage-driver=vfs', '--iptables=false', '--ip-masq=false', '--bridge=none', '--live-restore',
    '--log-level=info', `--config-file=${join(dir, 'daemon.json')}`,
  ];
}

/** Starts dockerd for `node`; `pluginSocket` is where that node's knitd serves the knit plugin. */
export async function startDockerd(node: LabNode, tag: string, pluginSocket: string): Promise<LabDockerd> {
  const dir = labDockerPath(tag);
  rmSync(dir, { recursive: true, force: true });
  for (const d of ['etc/plugins', 'plugins', 'data', 'x']) mkdirSync(join(dir, d), { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'etc', 'plugins', 'knit.spec'), `unix://${pluginSocket}\n`);
  writeFileSync(join(dir, 'daemon.json'), '{}\n');
  const socket = join(dir, 'docker.sock');
  const logPath = join(dir, 'dockerd.log');
  let proc: ChildProcess | undefined;

  // The mount namespace holder: private mounts, the per-node binds, then it sleeps.
  mkdirSync('/run/docker/plugins', { recursive: true });
  mkdirSync('/etc/docker', { recursive: true });
  const ready = join(dir, 'mounts-ready');
  const holder = spawn('nsenter', [`--net=/run/netns/${node.ns}`, 'unshare', '-m', '--propagation', 'private', 'sh', '-c',
    `mount --bind ${join(dir, 'etc')} /etc/docker && mount --bind ${join(dir, 'plugins')} /run/docker/plugins && touch ${ready} && exec sleep 100000`], {
    stdio: 'ignore', detached: true,
  });
  writeFileSync(join(dir, 'holder.pid'), String(holder.pid));
  for (const deadline = Date.now() + 10_000; !existsSync(ready);) {
    if (holder.exitCode !== null || Date.now() > deadline) throw new Error(`mount namespace holder of ${node.name} failed (exit ${String(holder.exitCode)})`);
    await new Promise((r) => setTimeout(r, 20));
  }

  const launch = async (): Promise<number> => {
    const out = openSync(logPath, 'a');
    // nsenter into the node's netns and the holder's mount namespace, then exec dockerd (same PID).
    proc = spawn('nsenter', [`--net=/run/netns/${node.ns}`, `--mount=/proc/${holder.pid}/ns/mnt`, DOCKERD, ...dockerdArgs(dir, socket)], {
      stdio: ['ignore', out, out], detached: true,
    });
    closeSync(out);
    const pid = proc.pid!;
    writeFileSync(join(dir, 'launcher.pid'), String(pid));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`dockerd of ${node.name} exited with ${proc.exitCode}: ${readFileSync(logPath, 'utf8').slice(-2000)}`);
      if (existsSync(socket)) {
        try {
          await execFileP(DOCKER_CLI, ['-H', `unix://${socket}`, 'version', '--format', '{{.Server.Version}}'], { timeout: 5000 });
          return pid;
        } catch {
          // not answering yet
        }
      }
      if (Date.now() > deadline) throw new Error(`dockerd of ${node.name} did not answer within 60 s: ${readFileSync(logPath, 'utf8').slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const stopProc = async (): Promise<void> => {
    const p = proc;
    if (!p || p.exitCode !== null || p.pid === undefined) return;
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    try {
      process.kill(p.pid, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => { try { process.kill(p.pid!, 'SIGKILL'); } catch { /* gone */ } }, 20_000);
    await exited;
    clearTimeout(timer);
  };

  const d: LabDockerd = {
    node, dir, socket, pluginSocket, pid: 0, logPath,
    docker: async (args, timeoutMs = 60_000) => {
      try {
        const { stdout } = await execFileP(DOCKER_CLI, ['-H', `unix://${socket}`, ...args], { timeout: timeoutMs, maxBuffer: 16 << 20 });
        return stdout;
      } catch (err) {
        const e = err as { stderr?: string; code?: number };
        throw new Error(`docker ${args.join(' ')} on ${node.name} failed (exit ${String(e.code)}): ${(e.stderr ?? '').trim()}`, { cause: err });
      }
    },
    dockerRun: (args, timeoutMs = 60_000) => new Promise((resolve) => {
      execFile(DOCKER_CLI, ['-H', `unix://${socket}`, ...args], { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
        resolve({ code, stdout, stderr });
      });
    }),
    stop: stopProc,
    restart: async () => {
      await stopProc();
      d.pid = await launch();
    },
    destroy: async () => {
      // Containers first (their shims are children of containerd, not of dockerd).
      await execFileP(DOCKER_CLI, ['-H', `unix://${socket}`, 'rm', '-f', ...(await execFileP(DOCKER_CLI, ['-H', `unix://${socket}`, 'ps', '-aq'], { timeout: 10_000 }).then((r) => r.stdout.split('\n').filter((s) => s !== ''), () => []))], { timeout: 60_000 }).catch(() => undefined);
      await stopProc();
      try {
        process.kill(holder.pid!, 'SIGKILL');
      } catch {
        // gone
      }
      // vfs layers and containerd state may hold mounts under the data root; unmount before removing.
      await execFileP('sh', ['-c', `grep -o " ${dir}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      const i = started.indexOf(d);
      if (i >= 0) started.splice(i, 1);
    },
  };
  started.push(d);
  d.pid = await launch();
  return d;
}

/**
 * Imports the busybox image into `d` from Debian's static busybox: a rootfs
 * with /bin/busybox and relative applet links, PATH=/bin. No registry.
 */
export async function importBusybox(d: LabDockerd): Promise<void> {
  const root = join(d.dir, 'rootfs');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, 'bin'), { recursive: true });
  for (const sub of ['etc', 'proc', 'sys', 'dev', 'tmp', 'www']) mkdirSync(join(root, sub), { recursive: true });
  copyFileSync('/bin/busybox', join(root, 'bin', 'busybox'));
  const { stdout } = await execFileP('/bin/busybox', ['--list']);
  for (const applet of stdout.split('\n')) {
    if (applet !== '' && applet !== 'busybox' && !applet.includes('/')) symlinkSync('busybox', join(root, 'bin', applet));
  }
  writeFileSync(join(root, 'www', 'index.html'), 'knit\n');
  const tar = join(d.dir, 'rootfs.tar');
  await execFileP('tar', ['-C', root, '-cf', tar, '.']);
  await d.docker(['import', '--change', 'ENV PATH=/bin', tar, BUSYBOX_IMAGE], 120_000);
  rmSync(root, { recursive: true, force: true });
  rmSync(tar, { force: true });
}
