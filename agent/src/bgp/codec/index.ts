/**
 * BGP-4 wire codec: pure encode/decode over Buffers, no sockets or timers.
 * Sessions use MessageSplitter on the TCP stream, decodeMessage on each
 * message (acting on BgpDecodeError.action), and encodeMessage to send.
 */
export * from './constants';
export * from './types';
export { BgpDecodeError, isDecodeError } from './errors';
export type { ErrorAction } from './errors';
export { encodeMessage, decodeMessage } from './message';
export { MessageSplitter } from './splitter';
export { checkHeader } from './header';
export type { ValidHeader } from './header';
export { endOfRib, endOfRibFamily } from './update';
export { ceaseNotification, notificationFor, shutdownCommunication } from './simple-messages';
export { findCapability } from './capabilities';
export { asPathLength, mergeAs4Path } from './as-path';
export { prefixToString } from './prefix';
