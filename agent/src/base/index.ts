/**
 * base/: the mechanisms every module uses, below all of them (imports only
 * Node built-ins): clock and timers, back-off with jitter, the serial
 * coalescing runner, error-chain formatting and errno guards, typed JSON
 * field readers, the defaults shared by several modules, and where knit's
 * native addons are.
 */
export { realClock, Ticker, Timer, type Clock, type TimerHandle } from './clock';
export { Backoff, backoffDelay, jittered, type BackoffOptions } from './backoff';
export { SerialRunner, type SerialRunnerOptions } from './serial-runner';
export { asError, causeMessages, describeError, errorCode, errorMessage, hasErrorCode, type CodedError } from './errors';
export { at, cidrFamily, FieldReader, gotSuffix, ipFamily, isObject, type InvalidField, type JsonObject } from './json-fields';
export { API_SOCKET_NAME, CNI_SOCKET_NAME, DEFAULT_API_SOCKET, DEFAULT_CNI_SOCKET, DEFAULT_LEASE_TTL_SECONDS, DEFAULT_RUN_DIR } from './defaults';
export { API_VERSION, KNIT_VERSION } from './version';
export { loadNativeAddon, nativeAddonPath, type NativeAddonName } from './native-addon';
