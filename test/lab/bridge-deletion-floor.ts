/**
 * The lab's floor for removing a network from every node at once: one idle
 * bridge per node namespace (up, with an address, as a network's bridge),
 * all deleted at the same moment by one `ip link del` process per node, as
 * separate hosts would, and timed to each bridge's RTM_DELLINK.
 *
 * The lab's nodes share one kernel, and the bridge driver's deletion waits
 * for an RCU barrier while it holds the lock that every netlink change of
 * every namespace takes: the nodes' deletions queue one behind the other,
 * whatever the agent does. A network's removal in this lab can be no faster
 * than the last of these.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { openHandle } from '../../agent/src/netlink';

const exec = promisify(execFile);

/** Per round: ms from the deletions' start to the last bridge's RTM_DELLINK. */
export async function bridgeDeletionFloor(nodes: ReadonlyArray<{ ns: string; netnsPath: string }>, rounds: number, name = 'kfloor0'): Promise<number[]> {
  const namespaces = nodes.map((n) => n.ns);
  const handles = nodes.map((n) => openHandle(n.netnsPath));
  const out: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      await Promise.all(namespaces.map(async (ns, i) => {
        await exec('ip', ['-n', ns, 'link', 'add', name, 'type', 'bridge']);
        await exec('ip', ['-n', ns, 'addr', 'add', `10.254.${i}.1/24`, 'dev', name]);
        await exec('ip', ['-n', ns, 'link', 'set', name, 'up']);
      }));
      const gone: number[] = [];
      let start = 0;
      const subs = handles.map((h, i) => h.subscribe((ev) => {
        if (ev.type === 'link-deleted' && ev.link.name === name && gone[i] === undefined) gone[i] = performance.now() - start;
      }, undefined, ['link']));
      try {
        start = performance.now();
        await Promise.all(namespaces.map((ns) => exec('ip', ['-n', ns, 'link', 'del', name])));
        // The events are read on this thread: give the last one a moment to arrive.
        for (let wait = 0; wait < 50 && gone.filter((g) => g !== undefined).length < namespaces.length; wait++) {
          await new Promise((res) => setTimeout(res, 10));
        }
      } finally {
        for (const s of subs) s.close();
      }
      if (gone.filter((g) => g !== undefined).length < namespaces.length) throw new Error(`bridge deletion floor: missed an RTM_DELLINK in round ${r}`);
      out.push(Math.round(Math.max(...gone)));
    }
  } finally {
    for (const h of handles) h.close();
    await Promise.all(namespaces.map((ns) => exec('ip', ['-n', ns, 'link', 'del', name]).catch(() => undefined)));
  }
  return out;
}
