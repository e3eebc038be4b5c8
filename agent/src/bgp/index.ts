/**
 * The BGP module's public surface: the speaker (sessions, RIB, listener) and
 * the types its users need. The wire codec is ./codec; sessions, FSM, RIB
 * and export rules are internals of this module.
 */
export { DEFAULT_MAX_PREFIXES, DEFAULT_MAX_PREFIX_RESTART_S, Speaker, type LearnedRouteInfo, type NextHop6, type PeerSpec, type SessionInfo, type SpeakerOptions } from './speaker';
export { realClock, Timer, type Clock, type TimerHandle } from '../base';
export { tcpDialer, type BgpConn, type DialTarget, type Dialer } from './conn';
export type { Candidate, RouteSource } from './decision';
export type { SessionState } from './fsm';
export { connectedPrefix, parsePrefix, prefixKey, type Path } from './path';
export { REJECT_REASONS, type ImportContext, type ImportFilter, type PrefixRule, type RejectReason } from './import-policy';
export type { Prefix } from './codec';
