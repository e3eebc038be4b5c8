// Original file: proto/knit/v1/knit.proto

export const ChangeType = {
  CHANGE_TYPE_UNSPECIFIED: 'CHANGE_TYPE_UNSPECIFIED',
  CHANGE_TYPE_ADDED: 'CHANGE_TYPE_ADDED',
  CHANGE_TYPE_UPDATED: 'CHANGE_TYPE_UPDATED',
  CHANGE_TYPE_REMOVED: 'CHANGE_TYPE_REMOVED',
} as const;

export type ChangeType =
  | 'CHANGE_TYPE_UNSPECIFIED'
  | 0
  | 'CHANGE_TYPE_ADDED'
  | 1
  | 'CHANGE_TYPE_UPDATED'
  | 2
  | 'CHANGE_TYPE_REMOVED'
  | 3

export type ChangeType__Output = typeof ChangeType[keyof typeof ChangeType]
