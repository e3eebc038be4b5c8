/**
 * The wire protocol between the `knit` CNI plugin and knitd's CNI service,
 * in a folder of its own that both sides import (cni-plugin/src and
 * agent/src/cni): neither side owns the contract.
 *
 * One request per connection over a unix stream socket: the plugin writes one
 * JSON line (a `PluginRequest`), knitd answers with one JSON line (a
 * `PluginReply`) and closes. Newline-delimited JSON needs no framing code and
 * JSON.stringify never emits a raw newline. This file must stay free of
 * imports: the plugin loads only Node built-ins.
 */

/** knitd's runtime directory by default (its sockets live there). */
export const DEFAULT_RUN_DIR = '/run/knit';

/** File name of knitd's CNI socket in its runtime directory. */
export const CNI_SOCKET_NAME = 'cni.sock';

/** Default path of knitd's CNI socket when the network config names none. */
export const DEFAULT_AGENT_SOCKET = `${DEFAULT_RUN_DIR}/${CNI_SOCKET_NAME}`;

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';

export interface PluginRequest {
  command: CniCommand;
  /** CNI_CONTAINERID (absent for STATUS and GC) */
  containerId?: string;
  /** CNI_NETNS (absent for DEL when the runtime no longer has one, STATUS, GC) */
  netns?: string;
  /** CNI_IFNAME */
  ifname?: string;
  /** CNI_ARGS, unparsed ("K1=V1;K2=V2") */
  args?: string;
  /** CNI_PATH */
  path?: string;
  /** the network configuration exactly as received on stdin */
  config: string;
}

/** A CNI error as the spec defines it (printed on stdout, exit code 1). */
export interface CniErrorBody {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

export type PluginReply =
  /** `result` is printed as JSON on stdout; absent for DEL/CHECK/STATUS/GC */
  | { ok: true; result?: unknown }
  | { ok: false; error: CniErrorBody };

/** CNI spec error codes (SPEC.md "Error"). */
export const CniErrorCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnvironment: 4,
  IoFailure: 5,
  DecodeFailure: 6,
  InvalidNetworkConfig: 7,
  TryAgainLater: 11,
  /** STATUS: the plugin is not available to serve ADD requests */
  NotAvailable: 50,
  /** STATUS: limited connectivity, ADD will fail (e.g. pool exhausted) */
  LimitedConnectivity: 51,
  /**
   * knit's own code (the spec leaves 100+ to plugins): an unexpected failure
   * inside knitd that is none of the above; `msg` carries the cause.
   */
  Internal: 100,
} as const;
