/**
 * Which network namespace a path names, by identity rather than by path.
 *
 * A namespace has many names (/proc/<pid>/ns/net, a bind mount under
 * /run/netns, /proc/self/ns/net …) but one nsfs inode: stat() follows the
 * magic link or bind mount to it, so (st_dev, st_ino) identifies the
 * namespace itself. Every nsfs inode lives on the one nsfs device, so a file
 * whose st_dev differs from our own namespace's is not a namespace at all
 * (an empty mount point left behind after `ip netns del`, a regular file).
 */
import { statSync } from 'node:fs';

/** A namespace's identity: nsfs device and inode. */
export interface NetnsIdentity {
  dev: number;
  ino: number;
}

/** What a CNI_NETNS path turned out to be. */
export type NetnsLookup =
  | { kind: 'netns'; id: NetnsIdentity }
  /** the path does not exist */
  | { kind: 'missing' }
  /** the path exists but is no namespace file (wrong device) */
  | { kind: 'not-a-namespace' };

/** Resolves namespace identities; injected so unit tests need no namespaces. */
export interface NetnsInspector {
  /** The namespace the knitd process itself runs in. */
  own(): NetnsIdentity;
  /** What `path` is. */
  lookup(path: string): NetnsLookup;
}

/** The real inspector: stat(2) on the path and on /proc/self/ns/net. */
export const procNetnsInspector: NetnsInspector = {
  own: () => {
    const st = statSync('/proc/self/ns/net');
    return { dev: st.dev, ino: st.ino };
  },
  lookup: (path) => {
    let st;
    try {
      st = statSync(path);
    } catch {
      return { kind: 'missing' };
    }
    const own = procNetnsInspector.own();
    if (st.dev !== own.dev) return { kind: 'not-a-namespace' };
    return { kind: 'netns', id: { dev: st.dev, ino: st.ino } };
  },
};

/** True when both name the same namespace. */
export function sameNetns(a: NetnsIdentity, b: NetnsIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}
