/**
 * Conntrack cleanup for UDP port mappings. A UDP "connection" has no end: a
 * client that keeps sending to hostPort keeps its conntrack entry alive, so
 * after a mapping is removed (or added, or re-pointed at a new container) the
 * old entry would keep steering packets the old way until it idles out. The
 * reference portmap plugin and kube-proxy delete such entries; so does knit.
 * TCP needs nothing: a new TCP connection gets a fresh entry.
 */
import type { Logger } from '../../log/logger';
import type { CommandRunner } from './run-command';
import type { NormalizedMapping } from './types';

function udpKey(m: NormalizedMapping): string {
  return `${m.hostIp ?? '*'}|${m.hostPort}`;
}

function udpTarget(m: NormalizedMapping): string {
  return `${m.containerIp}:${m.containerPort}`;
}

/**
 * UDP host endpoints whose mapping appeared, disappeared or changed target
 * between two states: the entries whose conntrack flows are stale.
 */
export function changedUdpMappings(before: NormalizedMapping[], after: NormalizedMapping[]): NormalizedMapping[] {
  const prev = new Map(before.filter((m) => m.protocol === 'udp').map((m) => [udpKey(m), m]));
  const next = new Map(after.filter((m) => m.protocol === 'udp').map((m) => [udpKey(m), m]));
  const changed: NormalizedMapping[] = [];
  for (const [k, m] of prev) {
    const n = next.get(k);
    if (!n || udpTarget(n) !== udpTarget(m)) changed.push(m);
  }
  for (const [k, n] of next) if (!prev.has(k)) changed.push(n);
  return changed;
}

/**
 * Best effort: `conntrack -D -p udp --orig-port-dst P [--orig-dst IP]` for each
 * mapping. Failures are logged, never thrown (conntrack exits 1 when nothing
 * matched, which is the common case).
 */
export async function flushUdpConntrack(
  run: CommandRunner,
  conntrackCommand: string[],
  mappings: NormalizedMapping[],
  log: Logger,
): Promise<void> {
  for (const m of mappings) {
    const args = ['-D', '-p', 'udp', '--orig-port-dst', String(m.hostPort)];
    if (m.hostIp !== undefined) args.push('--orig-dst', m.hostIp);
    const res = await run([...conntrackCommand, ...args]);
    const deleted = /(\d+) flow entries have been deleted/.exec(res.stderr + res.stdout)?.[1];
    if (res.code === 0 || deleted !== undefined) {
      log.debug('flushed udp conntrack entries', { hostPort: m.hostPort, hostIp: m.hostIp, id: m.id, deleted: Number(deleted ?? 0) });
    } else {
      log.warn('udp conntrack flush failed', { hostPort: m.hostPort, id: m.id, code: res.code, stderr: res.stderr.trim() });
    }
  }
}
