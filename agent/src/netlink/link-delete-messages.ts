/**
 * The three requests link deletion sends on its own socket
 * (link-delete-socket.ts), encoded by hand: the bytes the `netlink` package
 * sent for `linkDel`, `linkSetGroup` and `linkDelGroup` (the unit test
 * compares them), with sequence number and port left 0 for the native job
 * to fill in. Pure: no socket. Each is one message that asks for an ack.
 */
import { Flags, rt } from 'netlink';
import { MessageWriter } from './encode';
import { checkIndex, checkInt } from './validate';

/** IFLA_GROUP (linux/if_link.h): the link's group, u32. */
const IFLA_GROUP = 27;
/** Every request is a plain request that wants its ack (and nothing else back). */
const REQUEST_ACK = Flags.REQUEST | Flags.ACK;

/**
 * struct ifinfomsg (16 bytes): family, pad, type, index, flags, change.
 * Only the index is set: 0 everywhere else means "any family, change no flags".
 */
function ifinfomsg(w: MessageWriter, index: number): void {
  w.u8(0); // ifi_family AF_UNSPEC
  w.u8(0); // padding
  w.u16(0); // ifi_type
  w.u32(index); // ifi_index (a positive int32, checked by the callers)
  w.u32(0); // ifi_flags
  w.u32(0); // ifi_change
}

function message(type: number, index: number, group?: number): Buffer {
  const w = new MessageWriter(64);
  const start = w.begin(type, REQUEST_ACK, 0, 0); // seq and port: the native job's
  ifinfomsg(w, index);
  if (group !== undefined) w.attrU32(IFLA_GROUP, group);
  w.end(start);
  return w.take();
}

/** A link group knit may use: 1..2^32-1 (0 is every link's default group). */
function checkGroup(group: number): number {
  return checkInt('group', group, 1, 0xffffffff);
}

/** `ip link del dev #index`: RTM_DELLINK naming the link by index. */
export function encodeLinkDel(index: number): Buffer {
  return message(rt.MessageType.DELLINK, checkIndex('index', index));
}

/** `ip link set dev #index group G`: RTM_SETLINK with IFLA_GROUP. */
export function encodeLinkSetGroup(index: number, group: number): Buffer {
  return message(rt.MessageType.SETLINK, checkIndex('index', index), checkGroup(group));
}

/**
 * `ip link del group G`: RTM_DELLINK with index 0 and IFLA_GROUP, which the
 * kernel reads as "every link of group G" (one teardown wait for all).
 */
export function encodeLinkDelGroup(group: number): Buffer {
  return message(rt.MessageType.DELLINK, 0, checkGroup(group));
}
