/** The reconciler's public surface: the class, its source contract, the pure diff and status types. */
export { Reconciler, type ReconcilerOptions } from './reconciler';
export type { ReconcileStats, ReconcilerStats, ReconcileRunReport } from './stats';
export type { DataplaneSource, DesiredDataplane, PeerMode, PeerPlan, ReconcilerNetlink, RefusedPeer, SetupResult } from './types';
export {
  diffDataplane, routeKey, neighbourKey, fdbKey, objectKey,
  type CurrentObjects, type DataplaneDiff, type DesiredObjects, type DiffOp, type DiffOptions, type KernelObject, type Conflict,
} from './diff';
export type { ObjectState, ObjectStatus, PeerStatus, ReconcilerStatus } from './status';
export { auditDataplane, type AuditState, type AuditedObject, type DataplaneAudit, type PeerAudit } from './audit';
