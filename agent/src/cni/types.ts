/**
 * The contract between knitd's CNI service (server.ts, dispatch.ts) and the
 * handlers that do the real work (handlers*.ts: IPAM, veth, bridge, routes,
 * port maps). Requests reach a handler fully validated: attachment variables
 * checked, CNI_ARGS split, configuration typed, prevResult converted to the
 * internal result type whatever version it was written in.
 *
 * A handler reports a specific outcome by throwing CniError with a spec code
 * (3 unknown container, 11 try again, 50/51 from STATUS, …); any other throw
 * becomes code 100 with its message.
 */
import type { NetConf, ValidAttachment } from './netconf';
import type { InternalResult } from './result';

/** Fields every attachment command (ADD, DEL, CHECK) carries. */
interface AttachmentRequest {
  /** CNI_CONTAINERID, validated */
  containerId: string;
  /** CNI_IFNAME, validated (1–15 chars, no "/", ":" or whitespace) */
  ifname: string;
  /** CNI_ARGS split into pairs ({} when unset) */
  args: Record<string, string>;
  /** CNI_PATH, when the runtime gave one */
  path?: string;
  conf: NetConf;
}

/** ADD: create the interface `ifname` in `netns`; return what was made. */
export interface AddRequest extends AttachmentRequest {
  /** CNI_NETNS (a path such as /run/netns/x or /proc/<pid>/ns/net) */
  netns: string;
  /** set when knit is chained after another plugin (same as conf.prevResult) */
  prevResult?: InternalResult;
}

/** DEL: undo ADD; must succeed when things are already gone. */
export interface DelRequest extends AttachmentRequest {
  /** absent when the runtime no longer has the namespace */
  netns?: string;
  /** the final result of the ADD, when the runtime cached it */
  prevResult?: InternalResult;
}

/** CHECK: verify the attachment still matches the ADD result. */
export interface CheckRequest extends AttachmentRequest {
  netns: string;
  /** required by the spec for CHECK: the final result of the ADD */
  prevResult: InternalResult;
}

/** STATUS: can knitd serve ADD now? Throw CniError 50 or 51 if not. */
export interface StatusRequest {
  conf: NetConf;
}

/** GC: release everything of network `conf.name` not in `validAttachments`. */
export interface GcRequest {
  validAttachments: ValidAttachment[];
  conf: NetConf;
}

/** What knitd's CNI service dispatches to. */
export interface CniHandlers {
  add(req: AddRequest): Promise<InternalResult>;
  del(req: DelRequest): Promise<void>;
  check(req: CheckRequest): Promise<void>;
  status(req: StatusRequest): Promise<void>;
  gc(req: GcRequest): Promise<void>;
}
