/**
 * The BGP finite state machine's states (RFC 4271 §8.2.2) and the rule that
 * names a session's state when it has more than one connection at once
 * (connection collision, RFC 4271 §6.8): the most advanced connection wins.
 */

/** RFC 4271 session states. */
export type SessionState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

/** States a single TCP connection passes through once it is up. */
export type ConnectionState = 'OpenSent' | 'OpenConfirm' | 'Established';

const RANK: Record<ConnectionState, number> = { OpenSent: 1, OpenConfirm: 2, Established: 3 };

/**
 * The session state from its connections and what it does without one:
 * stopped → Idle; dialing → Connect; otherwise waiting for the peer → Active.
 */
export function sessionState(
  connections: readonly ConnectionState[],
  mode: { stopped: boolean; dialing: boolean; idleHold: boolean },
): SessionState {
  if (mode.stopped) return 'Idle';
  let best: ConnectionState | undefined;
  for (const c of connections) if (!best || RANK[c] > RANK[best]) best = c;
  if (best) return best;
  if (mode.dialing) return 'Connect';
  if (mode.idleHold) return 'Idle';
  return 'Active';
}

/**
 * RFC 4271 §6.8: which connection survives a collision. The one opened by the
 * speaker with the higher BGP identifier (compared as unsigned integers) is kept.
 * Returns true when the connection WE opened (outgoing) must be closed.
 */
export function closeOutgoingOnCollision(localBgpId: string, remoteBgpId: string): boolean {
  return ipv4ToUint(localBgpId) < ipv4ToUint(remoteBgpId);
}

function ipv4ToUint(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}
