/**
 * loadConfig: flags > environment > config file > defaults, every value
 * typed and validated, then the checks that span fields. Pure: argv, env,
 * file reading and the host name are passed in, so every rule is unit-tested
 * without touching the machine.
 */
import os from 'os';
import { ConfigError } from './errors';
import { ConfigValue, FIELDS, FieldSpec } from './schema';
import { RawValue, readConfigFile, readEnv, readFlags } from './sources';
import type { ConfigSource, KnitdConfig } from './types';
import type { LogLevel } from '../log/logger';
import { errorMessage, isObject } from '../base';

export interface LoadConfigInput {
  /** Arguments after the program name (process.argv.slice(2)). */
  argv: string[];
  env: Record<string, string | undefined>;
  /** Reads the config file named by --config / KNIT_CONFIG; throws when it cannot. */
  readFile: (path: string) => string;
  /** The machine's host name, the default nodeName (defaults to os.hostname()). */
  hostname?: string;
}

/** A resolved value and where it came from. */
interface Resolved {
  value: ConfigValue | undefined;
  source: ConfigSource;
  origin: string;
}

/**
 * Loads and validates knitd's configuration. Throws ConfigError naming the
 * field, its source and the bad value.
 */
export function loadConfig(input: LoadConfigInput): KnitdConfig {
  const flags = readFlags(input.argv);
  const env = readEnv(input.env);
  const configFile = flags.configFile ?? env.configFile;
  let file = new Map<string, RawValue>();
  if (configFile !== undefined) {
    const fromFlag = flags.configFile !== undefined;
    let text: string;
    try {
      text = input.readFile(configFile);
    } catch (cause) {
      throw new ConfigError({
        field: 'config', source: fromFlag ? 'flag' : 'env', value: configFile, origin: fromFlag ? '--config' : 'KNIT_CONFIG',
        problem: `cannot read the config file: ${errorMessage(cause)}`, cause,
      });
    }
    file = readConfigFile(configFile, text);
  }

  const resolved = new Map<string, Resolved>();
  const get = (key: string) => resolved.get(key)?.value;
  for (const spec of FIELDS) {
    const raw = flags.values.get(spec.key) ?? env.values.get(spec.key) ?? file.get(spec.key);
    if (raw !== undefined) {
      const value = coerce(spec, raw);
      validate(spec, value, raw.source, raw.origin);
      resolved.set(spec.key, { value, source: raw.source, origin: raw.origin });
    } else {
      const value = defaultValue(spec, get, input.hostname ?? os.hostname());
      if (value !== undefined) validate(spec, value, 'default', 'default');
      resolved.set(spec.key, { value, source: 'default', origin: 'default' });
    }
  }
  crossCheck(resolved);
  return build(resolved, configFile);
}

function defaultValue(spec: FieldSpec, get: (key: string) => ConfigValue | undefined, hostname: string): ConfigValue | undefined {
  // Host names may carry upper case; node names may not (as in Kubernetes).
  if (spec.key === 'nodeName') return hostname.toLowerCase();
  if (spec.type === 'object') return undefined;
  if (typeof spec.default === 'function') return spec.default(get);
  return spec.default;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Turns a raw value into the field's type: strings from flags/env are parsed, file values must already have it. */
function coerce(spec: FieldSpec, { raw, source, origin }: RawValue): ConfigValue {
  const fail = (problem: string) => new ConfigError({ field: spec.key, source, value: raw, origin, problem });
  const fromText = source !== 'file';
  switch (spec.type) {
    case 'string':
      if (typeof raw !== 'string') throw fail(`expected a string${typeof raw === 'number' || typeof raw === 'boolean' ? ' (quote it in YAML)' : ''}`);
      if (raw === '' && spec.allowEmpty !== true) throw fail('must not be empty');
      return raw;
    case 'integer': {
      let n: number;
      if (fromText && typeof raw === 'string' && /^-?[0-9]+$/.test(raw.trim())) n = Number(raw.trim());
      else if (!fromText && typeof raw === 'number') n = raw;
      else throw fail('expected an integer');
      if (!Number.isSafeInteger(n)) throw fail('expected an integer');
      return n;
    }
    case 'boolean':
      if (!fromText) {
        if (typeof raw !== 'boolean') throw fail('expected true or false');
        return raw;
      }
      if (typeof raw === 'string' && /^(true|1)$/i.test(raw)) return true;
      if (typeof raw === 'string' && /^(false|0)$/i.test(raw)) return false;
      throw fail('expected true, false, 1 or 0');
    case 'list': {
      if (fromText) {
        const parts = Array.isArray(raw) ? raw : [raw];
        return parts.flatMap((p) => String(p).split(',')).map((s) => s.trim()).filter((s) => s !== '');
      }
      if (!Array.isArray(raw) || !raw.every((item) => typeof item === 'string')) throw fail('expected a list of strings');
      return raw.map((s: string) => s.trim());
    }
    case 'object': {
      let value: unknown = raw;
      if (fromText) {
        try {
          value = JSON.parse(String(raw));
        } catch {
          throw fail('expected a JSON object');
        }
      }
      if (!isMapping(value)) throw fail(fromText ? 'expected a JSON object' : 'expected a mapping');
      return value;
    }
  }
}

function validate(spec: FieldSpec, value: ConfigValue, source: ConfigSource, origin: string): void {
  let problem: string | undefined;
  if (spec.type === 'string' && spec.check !== undefined && typeof value === 'string') problem = spec.check(value);
  if (spec.type === 'integer' && spec.check !== undefined && typeof value === 'number') problem = spec.check(value);
  if (spec.type === 'list' && spec.checkItem !== undefined && Array.isArray(value)) {
    for (const item of value) {
      const itemProblem = spec.checkItem(item);
      if (itemProblem !== undefined) {
        problem = `${JSON.stringify(item)} ${itemProblem}`;
        break;
      }
    }
  }
  if (problem !== undefined) {
    const hint = source === 'default' && spec.key === 'nodeName' ? ` (the host name is not usable; set --node-name or ${spec.env})` : '';
    throw new ConfigError({ field: spec.key, source, value, origin, problem: problem + hint });
  }
}

/** Rules between fields. */
function crossCheck(resolved: Map<string, Resolved>): void {
  const at = (key: string): Resolved => {
    const r = resolved.get(key);
    if (r === undefined) throw new Error(`config field ${key} was not resolved (a bug in the config schema)`);
    return r;
  };
  const isSet = (key: string) => at(key).value !== undefined;
  const fail = (key: string, problem: string) => {
    const r = at(key);
    return new ConfigError({ field: key, source: r.source, value: r.value, origin: r.origin, problem });
  };

  if (isSet('etcd.certFile') !== isSet('etcd.keyFile')) {
    const present = isSet('etcd.certFile') ? 'etcd.certFile' : 'etcd.keyFile';
    throw fail(present, 'etcd.certFile and etcd.keyFile must be set together (client TLS) or not at all');
  }

  const endpoints = at('etcd.endpoints').value;
  const singleNode = !Array.isArray(endpoints) || endpoints.length === 0;
  if (singleNode && !isSet('subnet')) {
    throw fail('subnet', 'single-node mode (no etcd.endpoints) needs this node\'s subnet, e.g. --subnet 10.244.1.0/24; or set etcd.endpoints');
  }
  if (!singleNode && isSet('ipv6Subnet')) {
    throw fail('ipv6Subnet', 'ipv6Subnet is for single-node mode only; with etcd.endpoints the IPv6 subnet comes from the network config (ipv6ClusterCidr)');
  }
  if (!singleNode && isSet('subnet')) {
    throw fail('subnet', 'subnet is for single-node mode only; with etcd.endpoints the node\'s subnet is leased from the network config');
  }

  if (isSet('grpc.address') && at('grpc.insecure').value !== true) {
    const missing = ['grpc.tlsCertFile', 'grpc.tlsKeyFile', 'grpc.tlsClientCaFile'].filter((k) => !isSet(k));
    if (missing.length > 0) {
      throw fail('grpc.address', `a TCP gRPC listener needs mutual TLS (missing ${missing.join(', ')}) or grpc.insecure=true`);
    }
  }
}

/** Narrowing checks for resolved values (the schema validated them; a mismatch is a bug in the schema). */
const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number';
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isLogLevel = (v: unknown): v is LogLevel => v === 'error' || v === 'warn' || v === 'info' || v === 'debug';
const isLogFormat = (v: unknown): v is 'json' | 'text' => v === 'json' || v === 'text';
const isNftMode = (v: unknown): v is 'library' | 'exec' => v === 'library' || v === 'exec';

function build(resolved: Map<string, Resolved>, configFile: string | undefined): KnitdConfig {
  const value = (key: string) => resolved.get(key)?.value;
  const typed = <T>(key: string, ok: (v: unknown) => v is T, what: string): T => {
    const v = value(key);
    if (!ok(v)) throw new Error(`config field ${key} resolved to ${JSON.stringify(v)}, not ${what} (a bug in the config schema)`);
    return v;
  };
  const str = (key: string) => typed(key, isString, 'a string');
  const num = (key: string) => typed(key, isNumber, 'a number');
  const bool = (key: string) => typed(key, isBoolean, 'true or false');
  const optStr = (key: string) => (value(key) === undefined ? undefined : str(key));
  const config: KnitdConfig = {
    nodeName: str('nodeName'),
    stateDir: str('stateDir'),
    runDir: str('runDir'),
    cniSocket: str('cniSocket'),
    cniConfDir: str('cniConfDir'),
    cniConfFile: str('cniConfFile'),
    cniNetworkName: str('cniNetworkName'),
    cniMaxConnections: num('cniMaxConnections'),
    cniIdleTimeoutSeconds: num('cniIdleTimeoutSeconds'),
    cniReapIntervalSeconds: num('cniReapIntervalSeconds'),
    bridge: str('bridge'),
    etcd: {
      endpoints: typed('etcd.endpoints', isStrings, 'a list of strings'),
      prefix: str('etcd.prefix'),
      leaseTtlSeconds: num('etcd.leaseTtlSeconds'),
      livenessTtlSeconds: num('etcd.livenessTtlSeconds'),
      releaseOnShutdown: bool('etcd.releaseOnShutdown'),
    },
    bgp: {},
    grpc: { socket: str('grpc.socket'), insecure: bool('grpc.insecure') },
    metrics: { address: str('metrics.address') },
    docker: { enabled: bool('docker.enabled'), pluginSocket: str('docker.pluginSocket'), apiSocket: str('docker.apiSocket') },
    log: { level: typed('log.level', isLogLevel, 'a log level'), format: typed('log.format', isLogFormat, 'json or text') },
    nft: typed('nft', isNftMode, 'library or exec'),
    masquerade: bool('masquerade'),
    reconcileIntervalSeconds: num('reconcileIntervalSeconds'),
  };
  // Optional fields are left out rather than set to undefined, so deep equality in tests and logs stay clean.
  const optional: Array<[string, (v: string) => void]> = [
    ['publicIp', (v) => { config.publicIp = v; }],
    ['publicInterface', (v) => { config.publicInterface = v; }],
    ['subnet', (v) => { config.subnet = v; }],
    ['ipv6Subnet', (v) => { config.ipv6Subnet = v; }],
    ['etcd.caFile', (v) => { config.etcd.caFile = v; }],
    ['etcd.certFile', (v) => { config.etcd.certFile = v; }],
    ['etcd.keyFile', (v) => { config.etcd.keyFile = v; }],
    ['bgp.routerId', (v) => { config.bgp.routerId = v; }],
    ['grpc.address', (v) => { config.grpc.address = v; }],
    ['grpc.tlsCertFile', (v) => { config.grpc.tlsCertFile = v; }],
    ['grpc.tlsKeyFile', (v) => { config.grpc.tlsKeyFile = v; }],
    ['grpc.tlsClientCaFile', (v) => { config.grpc.tlsClientCaFile = v; }],
  ];
  for (const [key, set] of optional) {
    const v = optStr(key);
    if (v !== undefined) set(v);
  }
  if (value('mtu') !== undefined) config.mtu = num('mtu');
  if (value('network') !== undefined) config.network = typed('network', isObject, 'an object');
  if (configFile !== undefined) config.configFile = configFile;
  return config;
}
