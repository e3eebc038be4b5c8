/**
 * CNI spec versions on knitd's side. The rules live in the contract both
 * sides import (cni-wire/spec.ts) because both ends must agree and the plugin
 * may load nothing but built-ins; this module re-exports them for the agent and
 * adds what only knitd needs: the result format family of a version.
 */
export {
  SUPPORTED_VERSIONS,
  NEWEST_VERSION,
  isSupportedVersion,
  isSemver,
  compareVersions,
  minimumVersionFor,
  errorVersion,
  chooseVersion,
  containerIdProblem,
  ifnameProblem,
  isValidNetworkName,
  attachmentEnvProblem,
  CNI_COMMANDS,
} from '../../../cni-wire/spec';
export type { CniVersion, VersionChoice, AttachmentEnv } from '../../../cni-wire/spec';
import type { CniVersion } from '../../../cni-wire/spec';

/**
 * The result layout a version uses: '0.x' for 0.3.0–0.4.0 (ips carry
 * `version`), '1.0' for 1.0.0 (no `version`), '1.1' for 1.1.0 (routes and
 * interfaces carry the extra attributes 1.1 added).
 */
export type ResultFamily = '0.x' | '1.0' | '1.1';

/** The result layout of a supported version. */
export function resultFamily(v: CniVersion): ResultFamily {
  switch (v) {
    case '0.3.0':
    case '0.3.1':
    case '0.4.0':
      return '0.x';
    case '1.0.0':
      return '1.0';
    case '1.1.0':
      return '1.1';
  }
}
