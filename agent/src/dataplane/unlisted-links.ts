/**
 * When a deleted link is gone from the namespace, which is earlier than
 * when the kernel acks its deletion.
 *
 * The kernel deletes a device in two steps. Under the rtnl lock it takes the
 * device out of the namespace: its addresses, routes and neighbours go, its
 * name and index are free, and RTM_DELLINK is sent. Then, with the lock
 * released, it waits for the device's last references (RCU grace periods,
 * ≈ 15–20 ms for a veth, 30–50 ms for a bridge here, measured with `ip
 * monitor link` next to `ip link del`) and only then acks the request.
 * Nothing anyone does after the event can see or reach the device, so
 * knitd counts a link gone at its event: a CNI DEL answers, and a removed
 * network is removed, without the kernel's wait.
 *
 * One event socket serves every deletion (subscribed once, before any
 * delete is sent, so no event can be missed). It receives link deletions
 * only: the kernel drops every other link message before it is queued, so
 * a container's ADD (17 link messages in a scratch run: the veth created,
 * enslaved, up, carrier; the bridge's port and carrier changes) does not
 * wake it. Without events (the subscription failed, or events were lost),
 * the ack decides, as before.
 */
import type { Handle, Subscription } from '../netlink';
import type { Logger } from '../log/logger';
import { errorMessage, hasErrorCode } from '../base';

export class UnlistedLinks {
  private readonly waiting = new Map<number, Array<() => void>>();
  private readonly sub: Subscription | undefined;
  /** How each deletion ended: at the link's event, or at the ack (for logs and tests). */
  readonly stats = { atEvent: 0, atAck: 0 };

  constructor(nl: Pick<Handle, 'subscribe'>, private readonly log: Logger) {
    let sub: Subscription | undefined;
    try {
      sub = nl.subscribe((ev) => {
        if (ev.type !== 'link-deleted') return;
        const waiters = this.waiting.get(ev.link.index);
        if (waiters === undefined) return;
        this.waiting.delete(ev.link.index);
        for (const w of waiters) w();
      }, () => undefined, ['link-deleted']);
    } catch (err) {
      log.warn('no link events: deletions wait for the kernel\'s ack', { error: errorMessage(err) });
    }
    this.sub = sub;
  }

  /**
   * Starts `deleteLink` and resolves when link `index` has left the
   * namespace or the deletion resolved, whichever comes first. It rejects
   * with the deletion's error only while the link is still listed (after
   * the event, an error means someone else deleted it first: logged).
   */
  delete(index: number, deleteLink: () => Promise<void>): Promise<void> {
    if (this.sub === undefined) return deleteLink();
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const done = (how: keyof UnlistedLinks['stats']) => (): void => {
        if (settled) return;
        settled = true;
        this.stats[how]++;
        resolve();
      };
      const unlisted = done('atEvent');
      const waiters = this.waiting.get(index);
      if (waiters) waiters.push(unlisted);
      else this.waiting.set(index, [unlisted]);
      deleteLink().then(() => {
        this.forget(index, unlisted);
        done('atAck')();
      }, (err: unknown) => {
        this.forget(index, unlisted);
        if (!settled) {
          settled = true;
          reject(err);
        } else if (!hasErrorCode(err, 'ENODEV', 'ENOENT')) {
          this.log.warn('a link left the namespace, then its deletion failed', { index, error: errorMessage(err) });
        }
      });
    });
  }

  close(): void {
    this.sub?.close();
    this.waiting.clear();
  }

  private forget(index: number, waiter: () => void): void {
    const waiters = this.waiting.get(index);
    if (waiters === undefined) return;
    const rest = waiters.filter((w) => w !== waiter);
    if (rest.length === 0) this.waiting.delete(index);
    else this.waiting.set(index, rest);
  }
}
